// Quality of an encode against its reference, seen at the display size: VMAF through the static
// ffmpeg's libvmaf when a model is configured, else SSIM. The metric used is always reported.

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegJob } from './ff.ts';
import { run } from './run.ts';
import { tools } from './tools.ts';

export type Metric = 'vmaf' | 'ssim';

export interface QualityProbe {
  metric: Metric;
  /** present for VMAF */
  modelPath?: string;
  subsample: number;
}

let hasLibvmaf: boolean | undefined;

export async function chooseMetric(modelPath: string, subsample: number): Promise<QualityProbe> {
  if (hasLibvmaf === undefined) {
    const { stdout } = await run(tools().ffmpeg, ['-hide_banner', '-filters'], { allowFail: true });
    hasLibvmaf = /\blibvmaf\b/.test(stdout);
  }
  if (hasLibvmaf && modelPath && existsSync(modelPath)) return { metric: 'vmaf', modelPath, subsample };
  return { metric: 'ssim', subsample };
}

export interface Display {
  width: number;
  height: number;
}

/**
 * Score `distorted` against `reference`; both are scaled to the display size, the distorted with
 * bicubic as a player would. Optional input options apply to the distorted input (e.g. a
 * decryption key).
 */
export async function measureQuality(
  q: QualityProbe,
  distorted: string,
  reference: string,
  display: Display,
  opts: { distortedOptions?: string[]; subsample?: number; durationS?: number; onProgress?: (f: number) => void } = {},
): Promise<number> {
  const size = `${display.width}:${display.height}`;
  const prep = `scale=${size}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS`;
  const sub = Math.max(1, opts.subsample ?? q.subsample);
  // Subsampling: pick two adjacent frames in every `sub` before scaling (scaling frames nobody
  // scores is most of the cost) and let libvmaf score the second of each pair, so its motion
  // feature still sees the true previous frame. SSIM has no temporal part: every n-th frame.
  let pick = '';
  let vmafSub = 1;
  if (sub > 1 && q.metric === 'vmaf') {
    pick = `select='lt(mod(n+1\\,${sub})\\,2)',`;
    vmafSub = 2;
  } else if (sub > 1) pick = `select='not(mod(n\\,${sub}))',`;
  const metricFilter =
    q.metric === 'vmaf'
      ? `libvmaf=model_path=${q.modelPath}:n_subsample=${vmafSub}:n_threads=2`
      : 'ssim';
  const stderr = await ffmpegJob({
    inputs: [{ path: distorted, options: opts.distortedOptions }, { path: reference }],
    output: join(tmpdir(), 'edgebox-quality.null'),
    outputOptions: ['-lavfi', `[0:v:0]${pick}${prep}[d];[1:v:0]${pick}${prep}[r];[d][r]${metricFilter}`, '-f', 'null'],
    durationS: opts.durationS,
    onProgress: opts.onProgress,
  });
  const m = q.metric === 'vmaf' ? /VMAF score[:=]\s*([\d.]+)/.exec(stderr) : /SSIM .*All:([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`${q.metric} score missing from ffmpeg output`);
  return q.metric === 'vmaf' ? Number(Number(m[1]).toFixed(3)) : Number((Number(m[1]) * 100).toFixed(3));
}
