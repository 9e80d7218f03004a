// The bench's studio master, made with the packager's own ffmpeg so the bench needs no files
// from outside the repository: a 1080p25 moving test pattern (`testsrc2` at the full frame rate)
// with two audio languages (English and French sine tones), H.264 at CRF 16 as a mezzanine.
// Cached by its parameters: a second run on the same machine reuses it.

import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegJob } from '../../packager/src/ff.ts';

export interface MasterSpec {
  durationS: number;
  width: number;
  height: number;
  fps: number;
  languages: string[];
}

export function masterName(s: MasterSpec): string {
  return `testsrc2-${s.width}x${s.height}p${s.fps}-${s.durationS}s-${s.languages.join('+')}.mp4`;
}

/** The ffmpeg command line that makes the master (recorded in the results). */
export function masterArgs(s: MasterSpec): { inputs: { path: string; options: string[] }[]; outputOptions: string[] } {
  return {
    inputs: [
      { path: `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}`, options: ['-f', 'lavfi', '-t', String(s.durationS)] },
      ...s.languages.map((_, i) => ({ path: `sine=frequency=${330 + 110 * i}:duration=${s.durationS}`, options: ['-f', 'lavfi'] })),
    ],
    outputOptions: [
      '-map', '0:v', ...s.languages.flatMap((_, i) => ['-map', `${i + 1}:a`]),
      // A fixed thread count keeps the master byte-identical whatever the machine's core count.
      '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-threads', '4',
      '-c:a', 'aac', '-b:a', '128k',
      ...s.languages.flatMap((l, i) => [`-metadata:s:a:${i}`, `language=${l}`]),
      '-movflags', '+faststart',
    ],
  };
}

export async function makeMaster(dir: string, s: MasterSpec): Promise<{ path: string; reused: boolean }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, masterName(s));
  if (existsSync(path)) return { path, reused: true };
  const tmp = `${path}.part.mp4`;
  const a = masterArgs(s);
  await ffmpegJob({ inputs: a.inputs, output: tmp, outputOptions: a.outputOptions, durationS: s.durationS });
  await rename(tmp, path);
  return { path, reused: false };
}
