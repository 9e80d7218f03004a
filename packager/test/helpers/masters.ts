// Synthetic studio masters made with ffmpeg for the tests: small, a few seconds, generated into a
// temp directory so nothing depends on files that are not in the repository.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegJob } from '../../src/ff.ts';
import { defaultVmafModelPath } from '../../src/vmaf-model.ts';

export type MasterKind = 'flat' | 'noisy';

export interface MasterSpec {
  kind: MasterKind;
  width: number;
  height: number;
  durationS: number;
  /** one audio track per language, in order */
  languages?: string[];
  fps?: number;
}

const SOURCES: Record<MasterKind, (w: number, h: number, fps: number) => string> = {
  // Animation-like: flat colour fields and sharp edges, drawn "on fives" (each picture held for
  // five frames) as limited animation is.
  flat: (w, h, fps) => `testsrc2=size=${w}x${h}:rate=${fps / 5},fps=${fps}`,
  // High motion and grain: a cellular automaton under strong temporal noise.
  noisy: (w, h, fps) =>
    `life=size=${w}x${h}:rate=${fps}:seed=7:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00,noise=alls=25:allf=t+u`,
};

export async function makeMaster(dir: string, name: string, spec: MasterSpec): Promise<string> {
  const fps = spec.fps ?? 25;
  const path = join(dir, name);
  const langs = spec.languages ?? [];
  const inputs = [
    { path: SOURCES[spec.kind](spec.width, spec.height, fps), options: ['-f', 'lavfi', '-t', String(spec.durationS)] },
    ...langs.map((_, i) => ({ path: `sine=frequency=${330 + 110 * i}:duration=${spec.durationS}`, options: ['-f', 'lavfi'] })),
  ];
  await ffmpegJob({
    inputs,
    output: path,
    outputOptions: [
      '-map', '0:v', ...langs.flatMap((_, i) => ['-map', `${i + 1}:a`]),
      '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16',
      ...(langs.length ? ['-c:a', 'aac', '-b:a', '128k'] : []),
      ...langs.flatMap((l, i) => [`-metadata:s:a:${i}`, `language=${l}`]),
      '-movflags', '+faststart',
    ],
  });
  return path;
}

export async function tempDir(tag: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `edgebox-pkg-test-${tag}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** the shared VMAF model (EDGEBOX_PACKAGER_VMAF_MODEL_PATH, else ../shared/vmaf beside the clone) */
export const VMAF_MODEL = defaultVmafModelPath();
