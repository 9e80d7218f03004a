// Today's figures, recorded by the previous ladder algorithm itself: the packager as it was at
// BASELINE_COMMIT (before the packaging-speed work) is taken from git into a temp dir and run
// through its own CLI on the same master, on the same machine. Its wall time and CPU are the
// "before" figures; its hull and its rungs' VMAF are what compare.ts checks the new ladder
// against. Slow: about 11-18× real time.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StageClock } from '../../packager/src/stage-clock.ts';
import { FFMPEG_MALLOC_ENV } from '../../packager/src/ff.ts';
import { streamNames } from '../../packager/src/encode.ts';
import type { Rung } from '../../packager/src/hull.ts';
import type { Baseline, MeasuredRung } from './compare.ts';

/** The last commit before the packaging-speed work. */
export const BASELINE_COMMIT = '3f3a4b6';

export interface RecordedBaseline extends Baseline {
  recordedAt: string;
  master: string;
  wallS: number;
  cpuS: { user: number; sys: number };
  loadavgBefore: number[];
  loadavgAfter: number[];
  trials: number;
  rungsText: string[];
}

export async function recordBaseline(repo: string, master: string, vmafModel: string, log: (m: string) => void): Promise<RecordedBaseline> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-bench-baseline-'));
  try {
    const tar = execFileSync('git', ['-C', repo, 'archive', BASELINE_COMMIT, 'packager', 'protocol', 'package.json', 'tsconfig.json'], { maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    await symlink(resolve(repo, 'node_modules'), join(dir, 'node_modules'));
    const out = join(dir, 'out');
    log(`running the packager of ${BASELINE_COMMIT} on ${master} (slow)`);
    const loadBefore = loadavg();
    const clock = new StageClock();
    clock.start('baseline');
    const code = await new Promise<number>((ok, fail) => {
      // Today's packager as it ran: without the malloc settings this process hands its own
      // ffmpeg children (see FFMPEG_MALLOC_ENV), unless the caller set them.
      const env = { ...process.env };
      for (const [k, v] of Object.entries(FFMPEG_MALLOC_ENV)) if (env[k] === v) delete env[k];
      const p = spawn(process.execPath, ['packager/cli.ts', master, '--title', 'baseline', '--out', out, '--dry-run', '--vmaf-model', vmafModel], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
      p.once('error', fail);
      p.once('exit', (c) => ok(c ?? 1));
    });
    clock.stop();
    if (code !== 0) throw new Error(`baseline packager exited ${code}`);
    const { ladder, master: info } = JSON.parse(await readFile(join(out, 'baseline.ladder.json'), 'utf8'));
    const manifest = JSON.parse(await readFile(join(out, 'baseline.manifest.json'), 'utf8'));
    // The old packager names its streams as streamNames still does.
    const names = streamNames(ladder.rungs, []).video;
    const rungs: MeasuredRung[] = ladder.rungs.map((r: Rung, i: number) => {
      const f = manifest.files.find((x: { fileId: string }) => x.fileId === `baseline.${names[i]}`);
      return { width: r.width, height: r.height, targetBitrate: r.targetBitrate, plannedBitrate: r.bitrate, bitrate: Math.round((f.bytes * 8) / info.durationS), vmaf: f.quality };
    });
    const t = clock.timings.baseline;
    return {
      commit: BASELINE_COMMIT, recordedAt: new Date().toISOString(), master,
      wallS: t.wallS, cpuS: { user: t.userS, sys: t.sysS },
      loadavgBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100),
      trials: ladder.trials.length, hull: ladder.hull, rungs,
      rungsText: rungs.map((r) => `${r.height}p@${Math.round(r.targetBitrate / 1000)}k ${Math.round(r.bitrate / 1000)} kb/s VMAF ${r.vmaf}`),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
