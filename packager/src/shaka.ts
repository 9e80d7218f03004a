// CMAF + CENC with Shaka Packager: one file per stream (on-demand: a single segment with a sidx),
// a DASH MPD (SegmentBase + indexRange) and HLS playlists (fMP4, EXT-X-BYTERANGE), encrypted with
// raw keys under the `cenc` scheme. ffmpeg must not encrypt: its fMP4 CENC is broken.

import { join } from 'node:path';
import { makeFileId, type ContentKey } from '../../protocol/index.ts';
import type { EncodedStream } from './encode.ts';
import { shakaLabel } from './keys.ts';
import { run } from './run.ts';
import { tools } from './tools.ts';

export interface ShakaOutput {
  dir: string;
  mpd: string;
  hlsMaster: string;
  /** fileId → media playlist path */
  hlsMedia: Record<string, string>;
  /** fileId → CMAF file path */
  files: Record<string, string>;
}

export async function packageCmaf(
  titleId: string,
  streams: EncodedStream[],
  keys: ContentKey[],
  opts: { dir: string; segmentS: number },
): Promise<ShakaOutput> {
  const out: ShakaOutput = { dir: opts.dir, mpd: join(opts.dir, `${titleId}.mpd`), hlsMaster: join(opts.dir, `${titleId}.m3u8`), hlsMedia: {}, files: {} };
  const descriptors = streams.map((s) => {
    const fileId = makeFileId(titleId, s.stream);
    out.files[fileId] = join(opts.dir, fileId);
    out.hlsMedia[fileId] = join(opts.dir, `${fileId}.m3u8`);
    const d = [
      `in=${s.path}`,
      `stream=${s.kind}`,
      `output=${out.files[fileId]}`,
      'format=mp4',
      `drm_label=${shakaLabel(s.keyLabel)}`,
      `playlist_name=${fileId}.m3u8`,
    ];
    // Shaka refuses `und`: an untagged track simply carries no language.
    const lang = s.language && s.language !== 'und' ? s.language : undefined;
    if (s.kind === 'audio') d.push(...(lang ? [`lang=${lang}`] : []), 'hls_group_id=audio', `hls_name=${lang ?? s.stream}`);
    return d.join(',');
  });
  const keyArg = keys.map((k) => `label=${shakaLabel(k.label)}:key_id=${k.kid}:key=${k.key}`).join(',');
  await run(tools().shaka, [
    ...descriptors,
    '--enable_raw_key_encryption',
    '--keys', keyArg,
    '--protection_scheme', 'cenc',
    // The v1 common-system pssh carries the key ids, which is what EME ClearKey initialises from.
    '--protection_systems', 'CommonSystem',
    '--clear_lead', '0',
    '--segment_duration', String(opts.segmentS),
    '--mpd_output', out.mpd,
    '--hls_master_playlist_output', out.hlsMaster,
    '--hls_playlist_type', 'VOD',
    // The master's first audio language is the default track in both DASH and HLS.
    ...defaultLanguage(streams),
  ]);
  return out;
}

function defaultLanguage(streams: EncodedStream[]): string[] {
  const lang = streams.find((s) => s.kind === 'audio')?.language;
  return lang && lang !== 'und' ? ['--default_language', lang] : [];
}
