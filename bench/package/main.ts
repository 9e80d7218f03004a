// `npm run bench:package`: packaging time against real time. Makes its own master (a 60 s 1080p25
// moving test pattern with two audio languages, cached in the temp dir), packages it through the
// real packager (ladder, encodes, CMAF + CENC, QA, publish into a temp origin store), and records
// wall time, CPU per stage, the chosen ladder with each rung's VMAF, the machine and its load
// average before and after. realtimeMultiple = packaging wall time ÷ master duration.
// Then, when bench/package/baseline-<master>.json exists (the previous ladder algorithm's run on
// the same master, made by --record-baseline), it checks the quality claim (see compare.ts) and
// shows the before/after figures; that part is not timed.
// Options: --duration S (60) or --master FILE (an existing master), --record-baseline (run the
// previous packager on the master first and save its figures; about 15-20 min for 60 s),
// --no-compare, --keep (keep the output), --jobs N (0 = one per core).
// Results: bench/results/package.json (+ .md) for the default master, package-<master>.* else.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packageTitle, type PackageResult } from '../../packager/src/package-title.ts';
import { packagerSettings, type PackagerSettings } from '../../packager/src/settings.ts';
import { streamNames } from '../../packager/src/encode.ts';
import { run } from '../../packager/src/run.ts';
import { tools } from '../../packager/src/tools.ts';
import type { Rung } from '../../packager/src/hull.ts';
import { StageClock } from '../../packager/src/stage-clock.ts';
import { makeMaster, masterArgs, type MasterSpec } from './master.ts';
import { compare, comparisonRungs, type Comparison, type MeasuredRung } from './compare.ts';
import { recordBaseline, type RecordedBaseline } from './baseline.ts';
import { renderMarkdown } from './report.ts';
import { defaultVmafModelPath } from '../../packager/src/vmaf-model.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    duration: { type: 'string' }, master: { type: 'string' }, 'record-baseline': { type: 'boolean' },
    'no-compare': { type: 'boolean' }, keep: { type: 'boolean' }, jobs: { type: 'string' },
  },
});
const durationS = Number(values.duration ?? 60);
const spec: MasterSpec = { durationS, width: 1920, height: 1080, fps: 25, languages: ['eng', 'fra'] };
const vmafModel = defaultVmafModelPath();
if (!existsSync(vmafModel)) throw new Error(`VMAF model not found at ${vmafModel} (set EDGEBOX_PACKAGER_VMAF_MODEL_PATH)`);

const log = (m: string) => console.error(`[package bench] ${m}`);
const work = await mkdtemp(join(tmpdir(), 'edgebox-bench-package-run-'));

function settingsFor(tag: string): PackagerSettings {
  return packagerSettings({
    vmafModelPath: vmafModel, originStore: join(work, tag, 'origin'), registerDir: join(work, tag, 'ingest'),
    ...(values.jobs ? { jobs: Number(values.jobs) } : {}),
  }, process.env);
}

/** Each video rung as packaged: resolution, the rate asked for, the rate delivered, QA's VMAF. */
function measured(r: PackageResult): MeasuredRung[] {
  const rungs = r.ladder.rungs;
  const names = streamNames(rungs, []).video;
  return rungs.map((rung, i) => {
    const f = r.manifest.files.find((x) => x.fileId === `${r.titleId}.${names[i]}`)!;
    return { width: rung.width, height: rung.height, targetBitrate: rung.targetBitrate, plannedBitrate: rung.bitrate, bitrate: Math.round((f.bytes * 8) / r.master.durationS), vmaf: f.quality! };
  });
}

try {
  const ffmpegVersion = (await run(tools().ffmpeg, ['-version'])).stdout.split('\n')[0];
  const t0 = performance.now();
  let master: { path: string; reused: boolean };
  if (values.master) master = { path: resolve(values.master), reused: true };
  else {
    log(`master: ${durationS} s ${spec.width}x${spec.height}p${spec.fps}, audio ${spec.languages.join('+')}`);
    master = await makeMaster(join(tmpdir(), 'edgebox-bench-package'), spec);
  }
  const masterS = (performance.now() - t0) / 1000;
  log(`${master.reused ? 'using' : 'made'} ${master.path}${master.reused ? '' : ` in ${masterS.toFixed(0)} s`}`);
  const tag = values.master ? basename(master.path).replace(/\.[^.]*$/, '') : `${durationS}s`;
  const baselinePath = join(here, `baseline-${tag}.json`);
  if (values['record-baseline']) {
    const b = await recordBaseline(resolve(here, '../..'), master.path, vmafModel, log);
    writeFileSync(baselinePath, `${JSON.stringify(b, null, 2)}\n`);
    log(`baseline: ${b.wallS} s wall, ${b.cpuS.user} s user + ${b.cpuS.sys} s sys; ${b.rungsText.join(', ')} → ${baselinePath}`);
  }

  const loadBefore = loadavg();
  const settings = settingsFor('timed');
  const total = new StageClock();
  total.start('package');
  let lastStage = '';
  const r = await packageTitle({
    master: master.path, titleId: 'bench', settings, outDir: join(work, 'timed', 'out'),
    onProgress: (e) => {
      if (e.stage !== lastStage || e.message) log(`${e.stage} ${e.percent}%${e.message ? ` ${e.message}` : ''}`);
      lastStage = e.stage;
    },
  });
  total.stop();
  const loadAfter = loadavg();
  const wall = total.timings.package;
  const rungs = measured(r);
  log(`packaged in ${wall.wallS} s (${(wall.wallS / r.master.durationS).toFixed(2)}× real time)`);

  let comparison: Comparison | undefined;
  let before: RecordedBaseline | undefined;
  if (!values['no-compare'] && existsSync(baselinePath) && r.ladder.metric === 'vmaf') {
    const baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as RecordedBaseline;
    before = baseline;
    const extra: Rung[] = comparisonRungs(baseline, rungs);
    log(`quality check against ${baselinePath}: encoding ${extra.length} rungs of today's ladder (not timed)`);
    const c = await packageTitle({ master: master.path, titleId: 'today', settings: settingsFor('today'), outDir: join(work, 'today', 'out'), rungs: extra, dryRun: true });
    comparison = compare(baseline, rungs, measured(c));
    log(`largest VMAF difference at the same bitrate: ${comparison.maxAbsDiff} (within 1 point: ${comparison.withinOnePoint})`);
  }

  const ladder = 'hull' in r.ladder ? r.ladder : undefined;
  const result = {
    bench: 'package',
    date: new Date().toISOString(),
    command: `npm run bench:package${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    realtimeMultiple: Math.round((wall.wallS / r.master.durationS) * 100) / 100,
    wallS: wall.wallS,
    cpuS: { user: wall.userS, sys: wall.sysS },
    masterDurationS: r.master.durationS,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version, ffmpeg: ffmpegVersion,
      loadavgBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadavgAfter: loadAfter.map((x) => Math.round(x * 100) / 100),
    },
    master: values.master
      ? { path: master.path, width: r.master.video.width, height: r.master.video.height, fps: r.master.video.fps, languages: r.master.audio.map((a) => a.language) }
      : { ...spec, path: master.path, reused: master.reused, makeSeconds: master.reused ? undefined : Math.round(masterS), ffmpeg: masterArgs(spec) },
    settings: {
      jobs: settings.jobs, encodeProcesses: settings.encodeProcesses, sampleShots: settings.sampleShots, shotSeconds: settings.shotSeconds, trialBpp: settings.trialBpp,
      vmafSubsample: settings.vmafSubsample, qaVmafSubsample: settings.qaVmafSubsample, trialPreset: settings.trialPreset, encodePreset: settings.encodePreset,
    },
    stages: r.timings,
    ladder: {
      metric: r.ladder.metric, trials: ladder?.trials.length ?? 0, shots: ladder?.shots,
      rungs: rungs.map((x) => ({ ...x, rung: `${x.height}p@${Math.round(x.targetBitrate / 1000)}k` })),
      hull: ladder?.hull,
    },
    qa: { passed: r.qa.passed, keyframesAligned: r.qa.keyframesAligned },
    before: before && {
      commit: before.commit, recordedAt: before.recordedAt, wallS: before.wallS, cpuS: before.cpuS,
      realtimeMultiple: Math.round((before.wallS / r.master.durationS) * 100) / 100,
      loadavgBefore: before.loadavgBefore, loadavgAfter: before.loadavgAfter, trials: before.trials, rungs: before.rungsText,
    },
    comparison,
    notes: [
      'wallS and cpuS cover packageTitle only: probe, ladder (trials), encode, package (Shaka), QA, publish into a temp origin store; making the master is not counted',
      'cpuS and each stage\'s userS/sysS are this process plus the children it waited for (ffmpeg, Shaka Packager), from /proc/self/stat',
      'the machine may be shared: load average before and after is recorded; compare figures from one machine only',
    ],
  };
  const out = join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  const base = tag === '60s' ? 'package' : `package-${tag}`;
  writeFileSync(join(out, `${base}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, `${base}.md`), renderMarkdown(result));
  console.log(renderMarkdown(result));
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
