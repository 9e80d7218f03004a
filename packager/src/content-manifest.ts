// Build the content manifest (protocol's ContentManifest) from what Shaka wrote: facts per file
// from the MPD, sizes and sha256 from the files themselves, and the per-session templates.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, readFile } from 'node:fs/promises';
import { ContentManifest, type ContentFile, type FileKind } from '../../protocol/index.ts';
import { dashTemplate, readMpd } from './dash-template.ts';
import { hlsMasterTemplate, hlsMediaTemplate } from './hls-template.ts';
import type { ShakaOutput } from './shaka.ts';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function buildContentManifest(
  titleId: string,
  durationS: number,
  out: ShakaOutput,
  quality: Record<string, number>,
  now: () => Date = () => new Date(),
): Promise<ContentManifest> {
  const mpd = await readFile(out.mpd, 'utf8');
  const reps = readMpd(mpd);
  const files: ContentFile[] = [];
  for (const r of reps) {
    const path = out.files[r.fileId];
    if (!path) throw new Error(`MPD lists ${r.fileId}, which the packager did not write`);
    const kind: FileKind = r.contentType === 'audio' || r.mimeType.startsWith('audio/') ? 'audio' : r.contentType === 'text' ? 'text' : 'video';
    files.push({
      fileId: r.fileId,
      kind,
      mimeType: r.mimeType,
      codecs: r.codecs,
      bandwidth: r.bandwidth,
      ...(r.width ? { width: r.width, height: r.height } : {}),
      ...(kind === 'video' && r.frameRate ? { frameRate: r.frameRate } : {}),
      ...(r.language ? { language: r.language } : {}),
      bytes: (await stat(path)).size,
      sha256: await sha256File(path),
      initRange: r.initRange,
      indexRange: r.indexRange,
      ...(r.kid ? { kid: r.kid } : {}),
      ...(quality[r.fileId] !== undefined ? { quality: quality[r.fileId] } : {}),
    });
  }
  const media: Record<string, string> = {};
  for (const f of files) media[f.fileId] = hlsMediaTemplate(await readFile(out.hlsMedia[f.fileId], 'utf8'), f.fileId, f.kid);
  const manifest = {
    version: 1 as const,
    titleId,
    durationMs: Math.round(durationS * 1000),
    files,
    kids: [...new Set(files.map((f) => f.kid).filter((k): k is string => !!k))],
    templates: {
      dash: dashTemplate(mpd),
      hls: { master: hlsMasterTemplate(await readFile(out.hlsMaster, 'utf8'), files.map((f) => f.fileId)), media },
    },
    createdAt: now().toISOString(),
  };
  return ContentManifest.parse(manifest);
}
