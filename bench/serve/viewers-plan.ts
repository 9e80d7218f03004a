// What the viewers workload's players watch and when: a catalogue of titles packaged like the
// packager's output (one file per rendition: init, sidx index, then 2-second segments), Zipf
// popularity over titles, and a seeded schedule per viewer so every server sees the same players.
//
// Segment sizes come from the ladder the packager picked for the package bench's master (60 s
// 1080p25, packager defaults; bench/results/package.json of 2026-12-01): each rung's measured
// bitrate × 2 s, the packager's default keyframe interval and so its segment duration. That run
// records mean bitrates, not per-segment sizes, so every segment of a rung has the same size.

import { seededRandom } from '../../protocol/index.ts';

/** bits per second of each rung, 1080p@5417k … 360p@217k (package bench, measured bitrates) */
export const LADDER_BPS = [5_427_578, 1_724_011, 756_018, 422_509, 300_882, 224_095] as const;
export const SEGMENT_SECONDS = 2;
/** a 60 s title, as the package bench's master */
export const SEGMENTS_PER_TITLE = 30;
/** a CMAF init segment (ftyp + moov with the CENC boxes) is of this order */
export const INIT_BYTES = 1024;

/** sidx v0: 32 bytes of header and fields, 12 per reference (ISO 14496-12 §8.16.3) */
export function sidxBytes(segments: number): number {
  return 32 + 12 * segments;
}

/** One rendition file as the player sees it: where init, index and each segment lie. */
export interface RenditionFile {
  /** request path including the token query */
  path: string;
  bytes: number;
  initBytes: number;
  indexBytes: number;
  segmentBytes: number;
  segments: number;
}

export function renditionLayout(bitsPerSecond: number, segments = SEGMENTS_PER_TITLE): Omit<RenditionFile, 'path'> {
  const segmentBytes = Math.round((bitsPerSecond * SEGMENT_SECONDS) / 8);
  const indexBytes = sidxBytes(segments);
  return { bytes: INIT_BYTES + indexBytes + segments * segmentBytes, initBytes: INIT_BYTES, indexBytes, segmentBytes, segments };
}

/** Inclusive byte range of segment `i` (0-based). */
export function segmentRange(f: Omit<RenditionFile, 'path'>, i: number): [number, number] {
  const start = f.initBytes + f.indexBytes + i * f.segmentBytes;
  return [start, start + f.segmentBytes - 1];
}

/** Cumulative Zipf weights over n items (rank 0 most popular); pick with zipfPick. */
export function zipfCdf(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
}

export function zipfPick(cdf: number[], u: number): number {
  for (let i = 0; i < cdf.length; i++) if (u < cdf[i]) return i;
  return cdf.length - 1;
}

/** Viewer i's own random stream: independent of how many viewers there are. */
export function viewerRandom(seed: number, viewer: number): () => number {
  return seededRandom((seed ^ Math.imul(viewer + 1, 0x9e3779b1)) >>> 0);
}
