// `npm run bench:soak`: a site under mixed load for SOAK_MINUTES (10) — the cluster launcher's
// origin, control and two appliances as real processes; viewers' ranges from RAM and disk,
// checked byte for byte; playback starts with manifests, heartbeats and ends; reports every
// second; a new title every few minutes for fill — sampling every process's RSS, V8 heap, open
// fds, event-loop delay p99 and errors, then a burst of hostile clients against one appliance.
// Writes bench/results/soak.{json,md}: top-level totalErrors and maxRssGrowthMiB (after warm-up).
// Knobs: bench/soak/README.md.

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../protocol/index.ts';
import { startCluster, type Cluster, type ClusterAppliance } from '../../scripts/lib/cluster.ts';
import { envNum } from '../env.ts';
import { watchFill } from '../fill/progress.ts';
import { machine } from '../machine.ts';
import { Catalogue } from './catalogue.ts';
import { ErrorLog } from './errors.ts';
import { hostileBurst } from './hostile.ts';
import { PlaybackLoad } from './playback.ts';
import { ProcWatch, seriesValues, type Watched } from './procs.ts';
import { RangeLoad } from './ranges.ts';
import { writeResults, type HostileResult, type ProcessResult, type SoakResults } from './results.ts';
import { perMinute, trend } from './trend.ts';

const MiB = 2 ** 20;
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const REGION = 'eu';
const log = (m: string) => console.log(`[bench:soak] ${new Date().toISOString().slice(11, 19)} ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const minutes = envNum('SOAK_MINUTES', 10);
const warmupMinutes = envNum('SOAK_WARMUP_MINUTES', Math.min(2, minutes / 4));
const sampleSeconds = envNum('SOAK_SAMPLE_SECONDS', 5);
const rangeRps = envNum('SOAK_RANGE_RPS', 40);
const playPerSecond = envNum('SOAK_PLAY_PER_SECOND', 2);
const titleEveryMinutes = envNum('SOAK_TITLE_MINUTES', 2);
const titles0 = Math.max(1, Math.round(envNum('SOAK_TITLES', 8)));
const fileMiB = envNum('SOAK_FILE_MIB', 4);
const ramTierMiB = envNum('SOAK_RAM_TIER_MIB', 24);
const hostileSeconds = envNum('SOAK_HOSTILE_SECONDS', 30);
const rssBoundMiB = envNum('SOAK_RSS_BOUND_MIB', 16);
const outDir = process.env.SOAK_OUT || RESULTS_DIR;
const SLOWLORIS = 200;

function watched(c: Cluster): Watched[] {
  return [
    { name: 'origin', kind: 'origin', pid: () => c.origin.pid, logPath: c.origin.logPath },
    {
      name: 'control', kind: 'control', pid: () => c.control.pid, logPath: c.control.logPath,
      metrics: async () => (await fetch(`${c.control.url}/metrics`, { signal: AbortSignal.timeout(15_000) })).text(),
    },
    ...c.appliances.map((a): Watched => ({ name: a.name, kind: 'appliance', pid: () => a.pid, logPath: a.logPath, metrics: () => a.metrics() })),
  ];
}

async function tierBytes(a: ClusterAppliance): Promise<Record<string, number>> {
  const text = await a.metrics();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^edgebox_served_bytes_total\{tier="(\w+)"\} (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** RSS / heap / fds of one process every 500 ms while `during` runs, then 30 s after. */
async function burstWatch<T>(w: ProcWatch, t0: number, during: () => Promise<T>) {
  const before = (await w.sample((performance.now() - t0) / 1000))!;
  let peak = before;
  let heapPeak = before.heapMiB;
  let fdsPeak = before.fds;
  let done = false;
  const poll = (async () => {
    while (!done) {
      const s = await w.sample((performance.now() - t0) / 1000);
      if (s && s.rssMiB > peak.rssMiB) peak = s;
      if (s?.heapMiB != null && (heapPeak === null || s.heapMiB > heapPeak)) heapPeak = s.heapMiB;
      if (s && s.fds > fdsPeak) fdsPeak = s.fds;
      await sleep(500);
    }
  })();
  const out = await during();
  done = true;
  await poll;
  await sleep(30_000);
  const after = (await w.sample((performance.now() - t0) / 1000))!;
  return { out, before, peak, heapPeak, fdsPeak, after };
}

/** Whether V8 heap growth explains RSS growth, the question behind a --max-old-space-size default. */
function heapNote(ps: ProcessResult[]): string {
  const apps = ps.filter((p) => p.kind === 'appliance' && p.rssMiB && p.workerHeapMiB);
  const one = (p: ProcessResult) =>
    `${p.name}: RSS ${p.rssMiB!.end} MiB (${p.rssMiB!.growth >= 0 ? '+' : ''}${p.rssMiB!.growth}), serving workers' heap ${p.workerHeapMiB!.end} MiB (${p.workerHeapMiB!.growth >= 0 ? '+' : ''}${p.workerHeapMiB!.growth})`;
  return `Heap and RSS after warm-up — ${apps.map(one).join('; ')}. The serving workers' V8 heap is a small part of RSS (the rest: code, the shared RAM tier, ` +
    'buffers, native memory), so a --max-old-space-size (for workers: resourceLimits.maxOldGenerationSizeMb) default would not bound RSS; none is set.';
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  const work = mkdtempSync(join(tmpdir(), 'edgebox-soak-'));
  const random = seededRandom(20261202);
  let c: Cluster | undefined;
  const stopAll = async () => {
    await c?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));
  try {
    log(`starting origin, control and 2 appliances under ${work}`);
    const allDay = { start: '00:00', end: '00:00' };
    c = await startCluster({
      dir: work,
      sites: [{ siteId: 'soak-1', kind: 'embedded', region: REGION, fillWindow: allDay, appliances: 2 }],
      control: { fillPlanSchedule: '', logLevel: 'warn' },
      applianceDefaults: { logLevel: 'warn', workers: 2, ramTierBytes: ramTierMiB * MiB, loadCpu: 'process' },
    });
    const cl = c;
    const catalogue = new Catalogue({ api: cl.control.api, originStore: cl.origin.store, region: REGION, filesPerTitle: 2, fileBytes: fileMiB * MiB });
    await catalogue.add(titles0);
    log(`${catalogue.titles.length} titles (${Math.round(catalogue.bytes / MiB)} MiB) planned; waiting for fill`);
    await Promise.all(cl.appliances.map((a) => watchFill(a, { intervalMs: 1000, timeoutMs: 600_000 }).done));
    log('filled; soak starts');

    const t0 = performance.now();
    const errors = new ErrorLog(t0);
    const watches = watched(cl).map((w) => new ProcWatch(w));
    const elapsed = () => (performance.now() - t0) / 1000;
    const sampleAll = async () => { for (const w of watches) await w.sample(elapsed()).catch((e: unknown) => errors.add(w.w.name, `sample: ${(e as Error).message}`)); };
    await sampleAll();
    const ranges = new RangeLoad({ appliances: cl.appliances, secrets: cl.secrets, sources: catalogue.sources, rps: rangeRps, maxInFlight: 16, errors, random });
    const playback = new PlaybackLoad({ api: cl.control.api, titles: () => catalogue.titles, perSecond: playPerSecond, sessionMs: 6000, errors, random, region: REGION });
    await ranges.start();
    await playback.start(8);
    const sampler = setInterval(() => void sampleAll(), sampleSeconds * 1000);
    const adder = titleEveryMinutes > 0
      ? setInterval(() => void catalogue.add(1).then(() => log(`title ${catalogue.titles.at(-1)} added and planned`), (e: unknown) => errors.add('control', `adding a title: ${(e as Error).message}`)), titleEveryMinutes * 60_000)
      : undefined;
    for (let m = 1; m <= Math.ceil(minutes); m++) {
      await sleep(Math.min(1, minutes - (m - 1)) * 60_000);
      const rs = [...ranges.stats.values()].reduce((a, s) => a + s.requests, 0);
      log(`minute ${m}: ${rs} ranges, ${playback.stats.starts} playback starts, errors ${[...errors.times.values()].reduce((a, t) => a + t.length, 0)}, ` +
        watches.map((w) => `${w.w.name} ${Math.round(w.samples.at(-1)?.rssMiB ?? 0)} MiB`).join(', '));
    }
    clearInterval(sampler);
    clearInterval(adder);
    await ranges.stop();
    await playback.stop();
    await sampleAll();
    const soakSeconds = elapsed();
    const tiers = Object.fromEntries(await Promise.all(cl.appliances.map(async (a) => [a.name, await tierBytes(a)] as const)));
    const fillBytes = Object.fromEntries(await Promise.all(cl.appliances.map(async (a) => [a.name, (await a.status()).fill?.bytesBySource] as const)));

    // the burst, on the first appliance, with the soak's load stopped
    let hostile: HostileResult | null = null;
    if (hostileSeconds > 0) {
      const target = cl.appliances[0];
      const w = watches.find((x) => x.w.name === target.name)!;
      const [fileId, src] = [...catalogue.sources].find(([id]) => id.startsWith(catalogue.titles[0]))!;
      log(`hostile burst: ${hostileSeconds} s against ${target.name}`);
      const b = await burstWatch(w, t0, () => hostileBurst({ target, secrets: cl.secrets, file: { fileId, src }, seconds: hostileSeconds, errors, slowloris: SLOWLORIS }));
      const check = new RangeLoad({ appliances: [target], secrets: cl.secrets, sources: new Map([[fileId, src]]), rps: 0, maxInFlight: 1, errors, random });
      const served = await check.once(target, fileId, 0, 65_535);
      hostile = {
        target: target.name, seconds: hostileSeconds, slowlorisAtOnce: SLOWLORIS, counts: b.out,
        rssBeforeMiB: b.before.rssMiB, rssPeakMiB: b.peak.rssMiB, rssAfterMiB: b.after.rssMiB,
        heapBeforeMiB: b.before.heapMiB, heapPeakMiB: b.heapPeak, heapAfterMiB: b.after.heapMiB,
        fdsPeak: b.fdsPeak, fdsAfter: b.after.fds,
        servesAfter: served && w.pids.size === 1,
      };
      log(`hostile burst: RSS ${b.before.rssMiB.toFixed(1)} → peak ${b.peak.rssMiB.toFixed(1)} → ${b.after.rssMiB.toFixed(1)} MiB 30 s after`);
    }

    const warm = warmupMinutes * 60;
    const processes: ProcessResult[] = watches.map((w) => {
      const after = w.samples.filter((s) => s.t >= warm && s.t <= soakSeconds + 1);
      const pts = (get: (s: (typeof after)[number]) => number | null) =>
        after.flatMap((s) => { const v = get(s); return v === null ? [] : [[s.t, v] as [number, number]]; });
      const delays = after.map((s) => s.loopDelayP99Ms).filter((x): x is number => x !== null).sort((a, b) => a - b);
      const logTimes = w.samples.flatMap((s) => Array<number>(s.logErrors).fill(s.t));
      const all = [...logTimes, ...(errors.times.get(w.w.name) ?? [])];
      const restarts = Math.max(0, w.pids.size - 1);
      return {
        name: w.w.name, kind: w.w.kind, pids: [...w.pids],
        rssMiB: trend(pts((s) => s.rssMiB)),
        heapMiB: trend(pts((s) => s.heapMiB)),
        workerHeapMiB: trend(pts((s) => s.workerHeapMiB)),
        fds: trend(pts((s) => s.fds)),
        loopDelayP99Ms: delays.length ? { median: delays[Math.floor(delays.length / 2)], max: delays.at(-1)! } : null,
        cpuSeconds: Math.round((w.samples.at(-1)?.cpuSeconds ?? 0) - (w.samples[0]?.cpuSeconds ?? 0)),
        errorsPerMinute: perMinute(all, soakSeconds / 60 + (hostileSeconds > 0 ? 1 : 0)),
        errors: all.length + restarts,
      };
    });
    const maxRssGrowthMiB = Math.max(...processes.map((p) => p.rssMiB?.growth ?? 0));
    const totalErrors = processes.reduce((a, p) => a + p.errors, 0) + (errors.times.get('harness')?.length ?? 0);
    const logExamples = watches.flatMap((w) => w.logErrors.examples.map((e) => `${w.w.name} log: ${e}`));
    const results: SoakResults = {
      bench: 'soak',
      date: new Date().toISOString(),
      node: process.version,
      command: `SOAK_MINUTES=${minutes} npm run bench:soak`,
      machine: machine(loadStart),
      settings: {
        minutes, warmupMinutes, sampleSeconds, appliances: 2, workersPerAppliance: 2, rangeRpsPerAppliance: rangeRps,
        playbackStartsPerSecond: playPerSecond, newTitleEveryMinutes: titleEveryMinutes, titlesAtStart: titles0, fileMiB, ramTierMiB, hostileSeconds,
      },
      totalErrors,
      maxRssGrowthMiB,
      rssGrowthBoundMiB: rssBoundMiB,
      withinBound: maxRssGrowthMiB <= rssBoundMiB,
      load: {
        ranges: Object.fromEntries(ranges.stats),
        servedBytesByTier: tiers,
        playback: playback.stats,
        titles: catalogue.titles.length,
        catalogueMiB: Math.round(catalogue.bytes / MiB),
        fillBytesBySource: fillBytes,
        reportsAccepted: seriesValues(await (await fetch(`${cl.control.url}/metrics`)).text(), 'edgebox_control_reports_total{result="accepted"}')[0] ?? null,
      },
      processes,
      hostile,
      errorExamples: [...errors.examples, ...logExamples].slice(0, 30),
      notes: [
        'Growth, not speed: the machine is shared with other work (load average above), so CPU seconds and loop delays are this run\'s, not a capacity figure.',
        'RSS and open fds are the whole process (worker threads included) from /proc; the V8 heap is the main thread\'s plus each serving worker\'s (edgebox_worker_heap_used_bytes); the origin has no /metrics, so no heap or loop delay.',
        'Errors: requests the load saw fail or answered wrongly (status, bytes) by the process that answered, plus error lines (pino error/fatal, uncaught …Error) in each process\'s log, plus restarts.',
        heapNote(processes),
      ],
    };
    const paths = writeResults(outDir, results);
    log(`totalErrors ${totalErrors}, maxRssGrowthMiB ${maxRssGrowthMiB} (bound ${rssBoundMiB}); wrote ${paths.json} and ${paths.md}`);
  } finally {
    await stopAll();
  }
}

main().catch((err) => {
  console.error(`[bench:soak] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
