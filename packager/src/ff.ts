// One ffmpeg job through fluent-ffmpeg: inputs with their options, one or more outputs, progress
// as a fraction of the expected media duration, and the whole stderr for callers that parse it.

import ffmpeg from 'fluent-ffmpeg';
import { tools } from './tools.ts';
import { ToolError } from './run.ts';

export interface FfInput {
  path: string;
  options?: string[];
}

export interface FfOutput {
  path: string;
  options: string[];
}

export interface FfJob {
  inputs: FfInput[];
  /** one output … */
  output?: string;
  outputOptions?: string[];
  /** … or several, from one decode (a `-filter_complex` goes in the first one's options) */
  outputs?: FfOutput[];
  /** seconds of media the output will cover, to turn timemarks into a fraction */
  durationS?: number;
  onProgress?: (fraction: number) => void;
}

/**
 * glibc malloc settings for the ffmpeg children, set once in this process's environment (which
 * the children inherit; this process's own allocator read its settings at start and is not
 * affected). Measured: the static ffmpeg's libvmaf 1.3 allocates and frees about 190 MB of float
 * planes per 1080p frame; each is above malloc's mmap threshold, so every frame was fresh
 * mmap'd memory, about 47k page faults a frame, and VMAF spent 40% of its CPU in the kernel and
 * 1 CPU-second a frame. One arena, no mmap and no trim keep the planes in the heap: 0.19
 * CPU-seconds a frame, the same scores. Decoding and x264 are unaffected. A value already in the
 * environment wins.
 */
export const FFMPEG_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(2 ** 31 - 1),
  MALLOC_TOP_PAD_: String(64 * 2 ** 20),
};

let envSet = false;
function setChildMallocEnv(): void {
  if (envSet) return;
  envSet = true;
  for (const [k, v] of Object.entries(FFMPEG_MALLOC_ENV)) if (process.env[k] === undefined) process.env[k] = v;
}

function seconds(timemark: string): number {
  const m = /^(-?\d+):(\d+):(\d+(?:\.\d+)?)/.exec(timemark);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
}

/** Runs the job; resolves with ffmpeg's stderr (its last 200 lines), rejects with its last lines. */
export function ffmpegJob(job: FfJob): Promise<string> {
  tools();
  setChildMallocEnv();
  const outputs: FfOutput[] = job.outputs ?? [{ path: job.output ?? '', options: job.outputOptions ?? [] }];
  return new Promise((resolve, reject) => {
    if (!outputs.length || outputs.some((o) => !o.path)) return reject(new Error('ffmpegJob: no output'));
    const cmd = ffmpeg({ stdoutLines: 200 });
    for (const input of job.inputs) {
      cmd.input(input.path);
      if (input.options?.length) cmd.inputOptions(input.options);
    }
    for (const [i, o] of outputs.entries()) {
      cmd.output(o.path).outputOptions(i === 0 ? ['-y', '-hide_banner', '-nostdin', ...o.options] : ['-y', ...o.options]);
    }
    // Progress from ffmpeg's own stats lines. (fluent-ffmpeg's 'progress' event would first run
    // ffprobe on the first input, and trips over the stats line of a many-output job.)
    if (job.onProgress && job.durationS) {
      const onProgress = job.onProgress, durationS = job.durationS;
      cmd.on('stderr', (line: string) => {
        const t = /\btime=\s*(-?[\d:.]+)/.exec(line);
        if (t) onProgress(Math.min(1, Math.max(0, seconds(t[1]) / durationS)));
      });
    }
    cmd.on('end', (_out: string | null, stderr: string | null) => resolve(stderr ?? ''));
    cmd.on('error', (err: Error, _out: string | null, stderr: string | null) => {
      const lines = (stderr ?? '').trim().split('\n').filter((l) => !/^\s*(frame=|size=|Stream|Input|Output|Duration|Metadata|  )/.test(l));
      const tail = lines.slice(-3).join(' | ');
      reject(new ToolError(`ffmpeg failed: ${err.message.split('\n')[0]}${tail ? ` (${tail})` : ''}`));
    });
    cmd.run();
  });
}

/** ffprobe through fluent-ffmpeg; extra options (e.g. -count_frames) pass through. */
export function ffprobe(path: string, options: string[] = []): Promise<ffmpeg.FfprobeData> {
  tools();
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(path, options, (err: Error | null, data: ffmpeg.FfprobeData) => {
      if (err) reject(new ToolError(`ffprobe cannot read ${path}: ${err.message.split('\n').filter(Boolean).slice(-1)[0] ?? err.message}`));
      else resolve(data);
    });
  });
}
