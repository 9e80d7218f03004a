// Trial encodes for the per-title ladder: the sampled shots of the master are decoded once and
// encoded at several rates per candidate resolution, all in one ffmpeg process, which also keeps
// the reference frames the metric will compare (picked, at the display size, lossless); then
// every trial is scored against those, one process per trial, side by side.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegJob, type FfOutput } from './ff.ts';
import type { MasterInfo } from './ingest.ts';
import { measureQualities, pickedReference, type QualityProbe, type Reference } from './quality.ts';
import type { Limit } from './pool.ts';
import type { TrialPoint } from './hull.ts';

export const LADDER_HEIGHTS = [240, 360, 480, 720, 1080, 1440, 2160];

export interface Resolution {
  width: number;
  height: number;
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/** 240p up to the source's own height (4K only when the source has it); never above the source. */
export function candidateResolutions(width: number, height: number): Resolution[] {
  const hs = LADDER_HEIGHTS.filter((h) => h < height);
  hs.push(height);
  return hs.filter((h) => h >= Math.min(240, height)).map((h) => ({ width: even((width * h) / height), height: even(h) }));
}

export interface Shot {
  startS: number;
  durationS: number;
}

/** Evenly spread windows over the master (the whole master when it is shorter than the sample). */
export function sampleShots(durationS: number, count: number, shotS: number): Shot[] {
  if (count * shotS >= durationS * 0.8) return [{ startS: 0, durationS }];
  return Array.from({ length: count }, (_, i) => {
    const mid = ((i + 0.5) * durationS) / count;
    return { startS: Math.min(Math.max(0, mid - shotS / 2), durationS - shotS), durationS: shotS };
  });
}

/**
 * The shots, cut from the master (input seeking decodes from the keyframe before each start and
 * drops what precedes it, so every process sees the same frames) and joined into one stream.
 */
export function shotsReference(info: MasterInfo, shots: Shot[]): Reference {
  return {
    inputs: shots.map((s) => ({ path: info.path, options: ['-ss', s.startS.toFixed(3), '-t', s.durationS.toFixed(3)] })),
    graph: (first, out) => {
      const prep = shots.map((_, i) => `[${first + i}:v:0]setpts=PTS-STARTPTS,format=yuv420p[s${i}]`).join(';');
      return `${prep};${shots.map((_, i) => `[s${i}]`).join('')}concat=n=${shots.length}:v=1:a=0[${out}]`;
    },
  };
}

export function x264RateOptions(bitrate: number, preset: string, gop: number, keyframeS: number): string[] {
  const k = Math.round(bitrate / 1000);
  return [
    '-c:v', 'libx264', '-preset', preset, '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-b:v', `${k}k`, '-maxrate', `${Math.round(k * 1.5)}k`, '-bufsize', `${k * 2}k`,
    // Closed GOPs at one fixed interval, no scene-cut keyframes: every rendition switches at the
    // same instants.
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-flags', '+cgop',
    '-force_key_frames', `expr:gte(t,n_forced*${keyframeS})`,
  ];
}

export interface TrialPlan {
  resolution: Resolution;
  targetBitrate: number;
}

export function trialPlan(info: MasterInfo, bpp: number[]): TrialPlan[] {
  return candidateResolutions(info.video.width, info.video.height).flatMap((r) =>
    bpp.map((b) => ({ resolution: r, targetBitrate: Math.max(50_000, Math.round((b * r.width * r.height * info.video.fps) / 1000) * 1000) })),
  );
}

const trialPath = (dir: string, p: TrialPlan): string => join(dir, `trial-${p.resolution.height}p-${Math.round(p.targetBitrate / 1000)}k.mp4`);

/**
 * Encode every planned trial from one decode of the shots (scale once per resolution, split per
 * rate), and write the picked reference frames for scoring.
 */
export async function encodeTrials(
  plans: TrialPlan[],
  info: MasterInfo,
  shots: Shot[],
  q: QualityProbe,
  opts: { dir: string; preset: string; keyframeS: number; onProgress?: (f: number) => void },
): Promise<{ paths: string[]; reference: Reference }> {
  const shotsRef = shotsReference(info, shots);
  const gop = Math.round(info.video.fps * opts.keyframeS);
  const heights = [...new Set(plans.map((p) => p.resolution.height))];
  const picked = pickedReference('ref', join(opts.dir, 'trial-reference.mkv'), q, q.subsample, info.video);
  const graph = [shotsRef.graph(0, 'src'), `[src]split=${heights.length + 1}[ref]${heights.map((h) => `[h${h}]`).join('')}`, picked.graph];
  const outputs: FfOutput[] = [];
  for (const h of heights) {
    const mine = plans.filter((p) => p.resolution.height === h);
    const { width, height } = mine[0].resolution;
    graph.push(`[h${h}]scale=${width}:${height}:flags=bicubic,split=${mine.length}${mine.map((_, j) => `[t${h}_${j}]`).join('')}`);
    for (const [j, p] of mine.entries()) {
      outputs.push({ path: trialPath(opts.dir, p), options: ['-map', `[t${h}_${j}]`, ...x264RateOptions(p.targetBitrate, opts.preset, gop, opts.keyframeS), '-an'] });
    }
  }
  outputs.push(picked.output);
  outputs[0] = { ...outputs[0], options: ['-filter_complex', graph.join(';'), ...outputs[0].options] };
  await ffmpegJob({ inputs: shotsRef.inputs, outputs, durationS: shots.reduce((a, s) => a + s.durationS, 0), onProgress: opts.onProgress });
  return { paths: plans.map((p) => trialPath(opts.dir, p)), reference: picked.reference };
}

/** Encode and score every trial: one encode process, then one scoring process per trial, side by side. */
export async function runTrials(
  plans: TrialPlan[],
  info: MasterInfo,
  shots: Shot[],
  q: QualityProbe,
  opts: { dir: string; preset: string; keyframeS: number; limit: Limit; onProgress?: (f: number) => void },
): Promise<TrialPoint[]> {
  const sampleS = shots.reduce((a, s) => a + s.durationS, 0);
  // Encoding is about a third of the trial work, scoring the rest.
  const { paths, reference } = await opts.limit(() => encodeTrials(plans, info, shots, q, { ...opts, onProgress: (f) => opts.onProgress?.(f / 3) }));
  const bitrates = await Promise.all(paths.map(async (p) => Math.round(((await stat(p)).size * 8) / sampleS)));
  const scores = await measureQualities(q, paths.map((path) => ({ path })), reference, info.video, {
    durationS: sampleS, limit: opts.limit, onProgress: (f) => opts.onProgress?.(1 / 3 + (2 / 3) * f),
  });
  return plans.map((p, i) => ({ width: p.resolution.width, height: p.resolution.height, bitrate: bitrates[i], quality: scores[i].quality, targetBitrate: p.targetBitrate }));
}
