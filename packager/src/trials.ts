// Trial encodes for the per-title ladder: sample shots of the master into one lossless clip,
// encode it at several rates per candidate resolution, and score each against the clip at the
// display size.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegJob } from './ff.ts';
import type { MasterInfo } from './ingest.ts';
import { measureQuality, type QualityProbe } from './quality.ts';
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

/** Cut the shots out of the master and join them into one lossless reference clip. */
export async function buildSample(info: MasterInfo, shots: Shot[], dir: string): Promise<{ path: string; durationS: number }> {
  const path = join(dir, 'sample.mkv');
  const labels = shots.map((_, i) => `[s${i}]`).join('');
  const prep = shots.map((_, i) => `[${i}:v:0]setpts=PTS-STARTPTS,format=yuv420p[s${i}]`).join(';');
  const durationS = shots.reduce((a, s) => a + s.durationS, 0);
  await ffmpegJob({
    inputs: shots.map((s) => ({ path: info.path, options: ['-ss', s.startS.toFixed(3), '-t', s.durationS.toFixed(3)] })),
    output: path,
    outputOptions: ['-filter_complex', `${prep};${labels}concat=n=${shots.length}:v=1:a=0[v]`, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-an'],
    durationS,
  });
  return { path, durationS };
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

export async function runTrial(
  plan: TrialPlan,
  sample: { path: string; durationS: number },
  info: MasterInfo,
  q: QualityProbe,
  opts: { dir: string; preset: string; keyframeS: number; onProgress?: (f: number) => void },
): Promise<TrialPoint> {
  const { width, height } = plan.resolution;
  const out = join(opts.dir, `trial-${height}p-${Math.round(plan.targetBitrate / 1000)}k.mp4`);
  const gop = Math.round(info.video.fps * opts.keyframeS);
  await ffmpegJob({
    inputs: [{ path: sample.path }],
    output: out,
    outputOptions: ['-vf', `scale=${width}:${height}:flags=bicubic`, ...x264RateOptions(plan.targetBitrate, opts.preset, gop, opts.keyframeS), '-an'],
    durationS: sample.durationS,
    onProgress: (f) => opts.onProgress?.(f * 0.5),
  });
  const bitrate = Math.round(((await stat(out)).size * 8) / sample.durationS);
  const quality = await measureQuality(q, out, sample.path, info.video, {
    durationS: sample.durationS,
    onProgress: (f) => opts.onProgress?.(0.5 + f * 0.5),
  });
  return { width, height, bitrate, quality, targetBitrate: plan.targetBitrate };
}
