// Quality of encodes against their reference, seen at the display size: VMAF through the static
// ffmpeg's libvmaf when a model is configured, else SSIM. The metric used is always reported.
//
// One metric filter per ffmpeg process: the static ffmpeg's libvmaf 1.3.7 is not safe with two
// instances in one process (they load their models at once on their own threads; measured: an
// intermittent glibc abort, Netflix/vmaf#270). Encodes of one reference are scored side by side
// in separate processes instead, and the reference need not be decoded by each of them: the
// process that decodes the source anyway (trial encodes, rung encodes) also writes the frames
// the metric will look at, picked and prepared, into a small lossless file (`pickedReference`).

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegJob, type FfInput, type FfOutput } from './ff.ts';
import type { Limit } from './pool.ts';
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
  /** nominal frame rate ("25/1"); picked frames are renumbered at this rate */
  frameRate?: string;
}

/**
 * Subsampling: pick two adjacent frames in every `sub` before scaling (scaling frames nobody
 * scores is most of the cost) and let libvmaf score the second of each pair, so its motion
 * feature still sees the true previous frame. SSIM has no temporal part: every n-th frame.
 * Picked frames are renumbered (consecutive timestamps) so picked references line up.
 */
function picking(q: QualityProbe, sub: number, display: Display): { pick: string; vmafSub: number } {
  const renumber = `setpts=N/(${display.frameRate ?? '25'}*TB),`;
  if (sub > 1 && q.metric === 'vmaf') return { pick: `select='lt(mod(n+1\\,${sub})\\,2)',${renumber}`, vmafSub: 2 };
  if (sub > 1) return { pick: `select='not(mod(n\\,${sub}))',${renumber}`, vmafSub: 1 };
  return { pick: '', vmafSub: 1 };
}

const prep = (display: Display): string => `scale=${display.width}:${display.height}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS`;

/** A reference stream: inputs and the graph that makes one stream `[out]` of them. */
export interface Reference {
  inputs: FfInput[];
  graph: (first: number, out: string) => string;
  /** the frames are already picked and prepared (see pickedReference) */
  picked?: boolean;
}

export function fileReference(path: string): Reference {
  return { inputs: [{ path }], graph: (first, out) => `[${first}:v:0]null[${out}]` };
}

/**
 * A branch for a process that decodes the reference anyway: graph text taking pad `[from]` to a
 * lossless file of exactly the frames `measureQualities` will compare, already at the display
 * size; and the Reference that reads it back.
 */
export function pickedReference(from: string, path: string, q: QualityProbe, sub: number, display: Display): { graph: string; output: FfOutput; reference: Reference } {
  const { pick } = picking(q, sub, display);
  return {
    graph: `[${from}]${pick}${prep(display)}[${from}_picked]`,
    output: { path, options: ['-map', `[${from}_picked]`, '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-an'] },
    reference: { inputs: [{ path }], graph: (first, out) => `[${first}:v:0]setpts=PTS-STARTPTS[${out}]`, picked: true },
  };
}

export interface Distorted {
  path: string;
  /** input options (e.g. a decryption key) */
  options?: string[];
  /** also count every frame the decoder gives (the QA round trip) */
  countFrames?: boolean;
}

export interface Score {
  quality: number;
  /** decoded frames, when asked for */
  frames?: number;
}

/** Score one encode against the reference, both seen at the display size (the encode scaled bicubic, as a player would). */
export async function scoreOne(
  q: QualityProbe,
  d: Distorted,
  ref: Reference,
  display: Display,
  opts: { subsample?: number; durationS?: number; onProgress?: (f: number) => void } = {},
): Promise<Score> {
  const { pick, vmafSub } = picking(q, Math.max(1, opts.subsample ?? q.subsample), display);
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-quality-'));
  try {
    const log = join(dir, 'q.log');
    const frames = join(dir, 'frames.crc');
    const graph = [ref.graph(1, 'refsrc'), ref.picked ? '[refsrc]null[r]' : `[refsrc]${pick}${prep(display)}[r]`];
    let src = '[0:v:0]';
    const outputs: FfOutput[] = [];
    if (d.countFrames) {
      graph.push(`${src}split=2[dv][dc]`);
      src = '[dv]';
      // wrapped_avframe: one tiny packet per decoded frame, so counting costs no pixel work.
      outputs.push({ path: frames, options: ['-map', '[dc]', '-c:v', 'wrapped_avframe', '-f', 'framecrc'] });
    }
    const metric = q.metric === 'vmaf'
      // One thread: jobs side by side fill the cores, and one thread spends a third less CPU
      // per frame than two.
      ? `libvmaf=model_path=${q.modelPath}:n_subsample=${vmafSub}:n_threads=1:log_fmt=json:log_path=${log}`
      : `ssim=stats_file=${log}`;
    graph.push(`${src}${pick}${prep(display)}[d]`, `[d][r]${metric}[o]`);
    outputs.push({ path: join(dir, 'out.null'), options: ['-map', '[o]', '-f', 'null'] });
    outputs[0] = { ...outputs[0], options: ['-filter_complex', graph.join(';'), ...outputs[0].options] };
    // The stats line's time is the furthest output: all frames when counting, else the picked ones.
    const durationS = opts.durationS && (d.countFrames || !pick ? opts.durationS : (opts.durationS * vmafSub) / Math.max(1, opts.subsample ?? q.subsample));
    await ffmpegJob({ inputs: [{ path: d.path, options: d.options }, ...ref.inputs], outputs, durationS, onProgress: opts.onProgress });
    const quality = q.metric === 'vmaf' ? vmafMean(await readFile(log, 'utf8')) : ssimMean(await readFile(log, 'utf8'));
    if (!Number.isFinite(quality)) throw new Error(`${q.metric} score missing for ${d.path}`);
    const s: Score = { quality };
    if (d.countFrames) s.frames = (await readFile(frames, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).length;
    return s;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Score several encodes of one reference, side by side up to the job limit. */
export async function measureQualities(
  q: QualityProbe,
  distorted: Distorted[],
  ref: Reference,
  display: Display,
  opts: { subsample?: number; durationS?: number; limit?: Limit; onProgress?: (f: number) => void } = {},
): Promise<Score[]> {
  const limit = opts.limit ?? (<T>(fn: () => Promise<T>) => fn());
  const done = distorted.map(() => 0);
  const report = (i: number) => (f: number) => {
    done[i] = f;
    opts.onProgress?.(done.reduce((a, b) => a + b, 0) / distorted.length);
  };
  return Promise.all(distorted.map((d, i) => limit(() => scoreOne(q, d, ref, display, { ...opts, onProgress: report(i) }))));
}

/** libvmaf's JSON log lists the scored frames; its pooled score is their mean. */
function vmafMean(log: string): number {
  const frames = (JSON.parse(log) as { frames?: { metrics: { vmaf: number } }[] }).frames ?? [];
  if (!frames.length) return NaN;
  return Number((frames.reduce((a, f) => a + f.metrics.vmaf, 0) / frames.length).toFixed(3));
}

/** SSIM ×100: the mean of the per-frame `All` values (what ffmpeg prints as the total). */
function ssimMean(log: string): number {
  const all = [...log.matchAll(/All:([\d.]+)/g)].map((m) => Number(m[1]));
  if (!all.length) return NaN;
  return Number(((all.reduce((a, b) => a + b, 0) / all.length) * 100).toFixed(3));
}

/** One encode against a reference file. */
export async function measureQuality(
  q: QualityProbe,
  distorted: string,
  reference: string,
  display: Display,
  opts: { distortedOptions?: string[]; subsample?: number; durationS?: number; onProgress?: (f: number) => void } = {},
): Promise<number> {
  return (await scoreOne(q, { path: distorted, options: opts.distortedOptions }, fileReference(reference), display, opts)).quality;
}
