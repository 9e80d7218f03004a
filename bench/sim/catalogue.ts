// The simulated catalogue: titles of ~30 files each on a realistic ladder — 6 AVC and 5 HEVC
// video rungs (235 kb/s … 12 Mb/s 4K), 8 audio tracks (6 stereo languages, 2 surround) and 11
// subtitle tracks — episodes of 22–60 min and films of 85–150 min. Flattened as the planner takes
// it (PlanCatalog), with what the simulation needs beside: each title's duration, its files as
// protocol ContentFiles (for control's heartbeat → views rule) and its files as one bit mask
// (titles have at most 32 files, so "which files of title t an appliance holds" is one word).

import type { ContentFile } from '../../protocol/index.ts';
import type { PlanCatalog } from '../../control/src/fill/planner.ts';

export interface Rung { name: string; kind: 'video' | 'audio' | 'text'; kbps: number }

const video = (codec: string, kbps: number[]): Rung[] => kbps.map((k) => ({ name: `${codec}${k}`, kind: 'video' as const, kbps: k }));
export const LADDER: Rung[] = [
  ...video('avc', [235, 560, 1050, 1750, 3000, 5800]),
  ...video('hevc', [750, 1500, 3000, 6000, 12000]),
  ...['en', 'es', 'fr', 'de', 'pt', 'ja'].map((l) => ({ name: `aac-${l}`, kind: 'audio' as const, kbps: 128 })),
  ...['en', 'es'].map((l) => ({ name: `ac3-${l}`, kind: 'audio' as const, kbps: 640 })),
  ...['en', 'es', 'fr', 'de', 'pt', 'ja', 'it', 'nl', 'ko', 'ar', 'zh'].map((l) => ({ name: `sub-${l}`, kind: 'text' as const, kbps: 0 })),
];
/** WebVTT subtitles: about this many bytes per hour of programme */
const TEXT_BYTES_PER_HOUR = 60_000;

/** What viewers' players pick: a video rung (index into LADDER) and its audio track, with shares. */
export const VIEWING: { video: number; audio: number; share: number }[] = [
  { video: 10, audio: 19, share: 0.10 }, // 4K HEVC, surround
  { video: 9, audio: 11, share: 0.20 },  // 1080p HEVC
  { video: 5, audio: 11, share: 0.25 },  // 1080p AVC
  { video: 4, audio: 12, share: 0.12 },  // 720p AVC (a second language)
  { video: 8, audio: 11, share: 0.10 },  // HEVC 3 Mb/s (mobile)
  { video: 3, audio: 13, share: 0.10 },
  { video: 7, audio: 11, share: 0.05 },
  { video: 2, audio: 14, share: 0.04 },
  { video: 6, audio: 15, share: 0.02 },
  { video: 1, audio: 16, share: 0.01 },
  { video: 0, audio: 11, share: 0.01 },
];

export interface SimCatalogue extends PlanCatalog {
  durationMs: Float64Array;
  /** every file of title t held: (1 << files) - 1 */
  fullMask: Uint32Array;
  /** file index → title index */
  titleOf: Uint32Array;
  /** the title's files as control's manifests list them (for heartbeatViews), made on first use */
  contentFiles(t: number): ContentFile[];
  bytes: number;
}

export function titleId(t: number): string { return `t${String(t).padStart(5, '0')}`; }

export function makeCatalogue(titles: number, r: () => number): SimCatalogue {
  const F = titles * LADDER.length;
  if (LADDER.length > 32) throw new Error('a title may have at most 32 files (one mask word)');
  const cat: SimCatalogue = {
    titleIds: [], titleStart: new Uint32Array(titles + 1), fileIds: new Array<string>(F), fileBytes: new Float64Array(F),
    durationMs: new Float64Array(titles), fullMask: new Uint32Array(titles), titleOf: new Uint32Array(F), bytes: 0,
    contentFiles: (t) => {
      let c = cache.get(t);
      if (!c) cache.set(t, (c = contentFilesOf(cat, t)));
      return c;
    },
  };
  const cache = new Map<number, ContentFile[]>();
  for (let t = 0; t < titles; t++) {
    const id = titleId(t);
    cat.titleIds.push(id);
    const minutes = r() < 0.7 ? 22 + r() * 38 : 85 + r() * 65;
    cat.durationMs[t] = Math.round(minutes * 60_000);
    const start = t * LADDER.length;
    cat.titleStart[t] = start;
    LADDER.forEach((rung, i) => {
      const f = start + i;
      cat.fileIds[f] = `${id}.${rung.name}`;
      cat.fileBytes[f] = rung.kind === 'text' ? Math.ceil((TEXT_BYTES_PER_HOUR * minutes) / 60) : Math.round((rung.kbps * 1000 / 8) * minutes * 60);
      cat.titleOf[f] = t;
      cat.bytes += cat.fileBytes[f];
    });
    cat.fullMask[t] = LADDER.length === 32 ? 0xffffffff : (1 << LADDER.length) - 1;
  }
  cat.titleStart[titles] = F;
  return cat;
}

function contentFilesOf(cat: SimCatalogue, t: number): ContentFile[] {
  return LADDER.map((rung, i) => {
    const f = cat.titleStart[t] + i;
    return {
      fileId: cat.fileIds[f], kind: rung.kind, mimeType: rung.kind === 'text' ? 'text/vtt' : `${rung.kind}/mp4`, codecs: rung.name,
      bandwidth: rung.kbps * 1000, bytes: cat.fileBytes[f], sha256: '0'.repeat(64), initRange: { start: 0, end: 0 }, indexRange: { start: 0, end: 0 },
    };
  });
}
