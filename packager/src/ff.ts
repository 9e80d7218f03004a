// One ffmpeg job through fluent-ffmpeg: inputs with their options, one output, progress as a
// fraction of the expected media duration, and the whole stderr for callers that parse scores.

import ffmpeg from 'fluent-ffmpeg';
import { tools } from './tools.ts';
import { ToolError } from './run.ts';

export interface FfInput {
  path: string;
  options?: string[];
}

export interface FfJob {
  inputs: FfInput[];
  output: string;
  outputOptions: string[];
  /** seconds of media the output will cover, to turn timemarks into a fraction */
  durationS?: number;
  onProgress?: (fraction: number) => void;
}

function seconds(timemark: string): number {
  const m = /^(-?\d+):(\d+):(\d+(?:\.\d+)?)/.exec(timemark);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
}

/** Runs the job; resolves with ffmpeg's stderr, rejects with its last lines. */
export function ffmpegJob(job: FfJob): Promise<string> {
  tools();
  return new Promise((resolve, reject) => {
    const cmd = ffmpeg();
    for (const input of job.inputs) {
      cmd.input(input.path);
      if (input.options?.length) cmd.inputOptions(input.options);
    }
    cmd.outputOptions(['-y', '-hide_banner', '-nostdin', ...job.outputOptions]).output(job.output);
    cmd.on('progress', (p: { timemark?: string }) => {
      if (job.onProgress && job.durationS && p.timemark) {
        job.onProgress(Math.min(1, Math.max(0, seconds(p.timemark) / job.durationS)));
      }
    });
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
