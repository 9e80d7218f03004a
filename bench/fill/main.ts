// `npm run bench:fill`: fill on real processes over loopback (issue 8, "Bench"), into
// bench/results/fill.json and fill.md.
//   (a) one appliance fills ≥ 2 GiB from a peer of its site, no rate limit: MB/s and CPU;
//   (b) a fresh appliance fills the same with a rate limit set for the site: achieved ÷ limit;
//   (c) the serve bench's hot workload on an appliance without and while it fills at that limit;
//   (d) the 3 + 1 cluster from an empty start: the share of the site's fill bytes from the origin.
// The machine must be quiet: load average is recorded before and after.
//
// Knobs (environment): BENCH_FILL_MIB catalogue for (a)–(c) (2048), BENCH_FILL_FILE_MIB file size
// (64), BENCH_FILL_RATE_MBPS the limit for (b) and (c) in MB/s (default: half of (a), at most 150
// = Open Connect's 1.2 Gb/s), BENCH_SECONDS per viewer round (10), BENCH_WARMUP (2),
// BENCH_FILL_VIEWER_PAIRS rounds with the fill in (c), each between two without (3),
// BENCH_FILL_SETTLE unmeasured viewer load after (c) switches the fill on or off (5 s),
// BENCH_CLUSTER_MIB catalogue for (d) (512), BENCH_FILL_PARTS e.g. "ab" or "d" (all),
// BENCH_FILL_SMALL=1 tiny sizes for a smoke run (results go to a temp dir, not bench/results),
// BENCH_FILL_OUT=<dir> where to write the results.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterPaths, startCluster, type Cluster } from '../../scripts/lib/cluster.ts';
import { fillWindowAt } from '../../scripts/lib/control-api.ts';
import { publishFiles } from '../../scripts/lib/publish.ts';
import { writeTitle, type TestTitle } from '../../scripts/lib/test-titles.ts';
import { waitRamResident } from '../serve/edgebox.ts';
import { FILE_BYTES, HOT_FILES, RAM_TIER_BYTES } from '../serve/workloads.ts';
import { diskCeiling } from './disk-ceiling.ts';
import { originShare } from './origin-share.ts';
import { joinAndFill, rateLimited } from './peer-fill.ts';
import { envNum } from '../env.ts';
import { machine } from '../machine.ts';
import { aims, writeResults, type FillResults } from './results.ts';
import { viewersWithAndWithoutFill } from './viewers.ts';

const MiB = 2 ** 20;
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const log = (m: string) => console.log(`[bench:fill] ${m}`);

const small = process.env.BENCH_FILL_SMALL === '1';
const catalogueMiB = envNum('BENCH_FILL_MIB', small ? 64 : 2048);
const fileMiB = envNum('BENCH_FILL_FILE_MIB', small ? 8 : 64);
const rateOverride = envNum('BENCH_FILL_RATE_MBPS', 0);
const seconds = envNum('BENCH_SECONDS', small ? 2 : 10);
const warmupSeconds = envNum('BENCH_WARMUP', small ? 1 : 2);
const clusterMiB = envNum('BENCH_CLUSTER_MIB', small ? 32 : 512);
const viewerPairs = envNum('BENCH_FILL_VIEWER_PAIRS', small ? 2 : 3);
const settleSeconds = envNum('BENCH_FILL_SETTLE', small ? 1 : 5);
const parts = process.env.BENCH_FILL_PARTS ?? 'abcd';
const hotFiles = small ? 4 : HOT_FILES;
const outDir = process.env.BENCH_FILL_OUT || (small ? join(tmpdir(), 'edgebox-bench-fill-smoke') : RESULTS_DIR);
const workers = availableParallelism();

/** (a)–(c): site bench-1, one peer holding the catalogue; appliances join it one by one. */
async function peerParts(work: string, r: FillResults): Promise<void> {
  const dir = join(work, 'peer');
  const store = clusterPaths(dir).originStore;
  mkdirSync(store, { recursive: true });
  const titleCount = Math.max(1, Math.round(catalogueMiB / fileMiB / 4));
  log(`writing the catalogue: ${titleCount} titles × 4 files × ${fileMiB} MiB`);
  const catalogue: TestTitle[] = Array.from({ length: titleCount }, (_, i) =>
    writeTitle(store, { titleId: `cat${String(i).padStart(3, '0')}`, files: 4, bytes: fileMiB * MiB }));
  const catalogueBytes = catalogue.reduce((n, t) => n + t.bytes, 0);
  const hot = writeTitle(store, { titleId: 'hot', files: hotFiles, bytes: FILE_BYTES });
  const daemon = { workers, logLevel: 'warn', ramTierBytes: 16 * MiB };
  const allDay = { start: '00:00', end: '00:00' };

  let c: Cluster | undefined;
  try {
    c = await startCluster({
      dir,
      sites: [{ siteId: 'bench-1', kind: 'embedded', region: 'eu', fillWindow: allDay, appliances: 1 }],
      control: { fillPlanSchedule: '', fillChurnFraction: 1 },
      applianceDefaults: daemon,
      // the peer: the catalogue published into its store before it starts
      appliance: () => ({
        beforeStart: async (config) => {
          const t0 = Date.now();
          await publishFiles(config, catalogue.flatMap((t) => t.files.map((f) => ({ ...f, kind: 'video' as const }))));
          log(`peer: ${Math.round(catalogueBytes / MiB)} MiB published into its store in ${Date.now() - t0} ms`);
        },
      }),
    });
    const peer = c.appliances[0];
    for (const t of catalogue) await c.control.api.registerTitle(t.record);
    await c.control.api.siteFill('bench-1', { rateLimitBps: 0, peerServeRateBps: 0 });
    const timeoutMs = 600_000;

    let limitBps = rateOverride * 8e6;
    if (parts.includes('a')) {
      log('(a) a new appliance fills the catalogue from the peer, no rate limit');
      // the disk's ceiling for the fill's write pattern, on the stores' filesystem, just before
      const disk = await diskCeiling(work, Math.min(catalogueBytes / 2, 1024 * MiB));
      log(`(a) the disk alone: ${Math.round(disk.bytes / MiB)} MiB in ${disk.files} files${disk.direct ? ' O_DIRECT' : ' buffered'} at ${disk.MBps} MB/s, ${disk.cpuSecondsPerGiB} CPU-s/GiB`);
      const { r: a } = await joinAndFill(c, peer, { bytes: catalogueBytes, settings: daemon, log, timeoutMs });
      r.unthrottled = { ...a, diskCeiling: disk };
      r.unthrottledMBps = a.MBps;
      log(`(a) ${Math.round(a.bytes / MiB)} MiB in ${a.seconds} s = ${a.MBps} MB/s; cpu ${a.cpuCores} cores, ${a.cpuSecondsPerGiB} CPU-s/GiB (${a.fillCpuSecondsPerGiB} less idle; peer ${a.peerCpuCores} cores); waiting for the peer ${a.pipeline?.sourceWaitShare ?? '—'}, for the store ${a.pipeline?.storeWaitShare ?? '—'} (writes ${a.pipeline?.storeWriteWaitShare ?? '—'}, hash alone ${a.pipeline?.storeHashWaitShare ?? '—'}; appends of ${a.pipeline ? Math.round(a.pipeline.meanAppendBytes / 1024) : '—'} KiB) of ${a.pipeline?.fetchSeconds ?? '—'} download-s; hash thread busy ${a.pipeline?.hashThreadBusyShare ?? '—'} (${a.pipeline?.hashThreadCpuSecondsPerGiB ?? '—'} CPU-s/GiB), main thread ${a.mainThreadCpuSecondsPerGiB} CPU-s/GiB; ${r.unthrottled.diskCeiling ? Math.round((a.MBps / r.unthrottled.diskCeiling.MBps) * 1000) / 10 : '—'} % of the disk`);
      if (!limitBps) limitBps = Math.min(150, Math.max(1, Math.round(a.MBps / 2))) * 8e6;
    }
    if (!limitBps) limitBps = 100 * 8e6;
    r.settings.rateLimitBps = limitBps;

    if (parts.includes('b')) {
      log(`(b) a new appliance fills the catalogue at a site limit of ${limitBps / 1e6} Mb/s`);
      await c.control.api.siteFill('bench-1', { rateLimitBps: limitBps });
      const { r: b0, samples } = await joinAndFill(c, peer, { bytes: catalogueBytes, settings: daemon, log, timeoutMs });
      const b = rateLimited(b0, samples, limitBps);
      r.rateLimited = b;
      r.rateLimitErrorPct = b.errorPct;
      log(`(b) steady ${b.steadyMBps} MB/s against ${b.limitMBps} MB/s: ${b.errorPct} %; ${b.cpuSecondsPerGiB} CPU-s/GiB (${b.fillCpuSecondsPerGiB} less idle)`);
    }

    if (parts.includes('c')) {
      log('(c) viewers on an appliance without and while it fills at the limit');
      await c.control.api.siteFill('bench-1', { rateLimitBps: limitBps });
      // the site's window closes, so only the operator's fill-now (for this appliance) fills it
      await c.putSite({ siteId: 'bench-1', kind: 'embedded', region: 'eu', fillWindow: fillWindowAt(false) });
      await c.control.api.registerTitle(hot.record);
      await c.control.api.promote('hot', { regions: ['eu'], expectedViews: 1e6, releaseAt: Date.now() });
      const v = await c.addAppliance('bench-1', {
        settings: { ...daemon, ramTierBytes: RAM_TIER_BYTES },
        beforeStart: (config) => publishFiles(config, hot.files.map((f, i) => ({ ...f, kind: 'video' as const, rank: i }))).then(() => {}),
      });
      await c.control.api.plan();
      await waitRamResident(v.adminOrigin, hot.bytes, log);
      const scratch = join(work, 'scratch');
      mkdirSync(scratch, { recursive: true });
      const res = await viewersWithAndWithoutFill(c, v, { hot: hot.files, seconds, warmupSeconds, scratch, pairs: viewerPairs, settleSeconds, log });
      r.viewers = res;
      r.viewerThroughputLossPct = res.throughputLossPct;
      log(`(c) throughput loss ${res.throughputLossPct} % (median of ${res.pairing.pairs.length} pairs, ${res.pairing.lossMinPct}…${res.pairing.lossMaxPct} %; pooled ${res.pooledLossPct} %), p99 ${res.without.p99_ms} → ${res.with.p99_ms} ms`);
    }
  } finally {
    await c?.stop();
  }
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  if (!process.version.startsWith('v24.')) log(`WARNING: node ${process.version}, the project expects v24`);
  const work = mkdtempSync(join(tmpdir(), 'edgebox-bench-fill-'));
  const r: FillResults = {
    bench: 'fill', date: new Date().toISOString(), node: process.version, machine: machine(loadStart),
    settings: { catalogueMiB, fileMiB, seconds, warmupSeconds, viewerPairs, settleSeconds, clusterMiB, parts, small },
    unthrottledMBps: null, rateLimitErrorPct: null, viewerThroughputLossPct: null, originShare: null, aims: [],
    unthrottled: null, rateLimited: null, viewers: null, cluster: null,
    notes: [
      'MB = 10^6 bytes. Every process (appliances, peer, control, origin, wrk) shares this machine\'s cores over loopback: a peer\'s serving CPU is taken from the filling appliance\'s.',
      'Fill figures come from the appliances\' own counters (GET /v1/status on the admin port), sampled every 200 ms.',
      '(b) and (c) use one rate limit, set for the site through PUT /v1/sites/:id/fill; (c) forces the fill with POST /v1/appliances/:id/fill-now while the site\'s window is closed.',
      '(d) starts from nothing held anywhere (a new site\'s first night, or a night of titles new to the whole region): all four appliances start together. Control names one first fetcher per file and site among its planned holders; the others list it as a peer before it holds the file, and embedded boxes list the IX appliance planned to hold it as a tier source (both marked notYet). A 404 from them means "not yet": a box fills other files and comes back, escalating only after the policy\'s peerMs/tierMs. So the IX appliance takes each file once from the origin, each file reaches the site once from the tier (its first fetcher), and the rest from peers.',
    ],
  };
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    if (/[abc]/.test(parts)) await peerParts(work, r);
    if (parts.includes('d')) {
      log('(d) the 3 + 1 cluster fills from empty');
      const d = await originShare({ dir: join(work, 'cluster'), catalogueBytes: clusterMiB * MiB, fileBytes: (small ? 2 : 8) * MiB, log, timeoutMs: 900_000 });
      r.cluster = d;
      r.originShare = d.originShare;
      log(`(d) origin share ${d.originShare} (with IX ${d.originShareWithIx})`);
    }
  } finally {
    r.machine = machine(loadStart);
    r.aims = aims(r);
    const paths = writeResults(outDir, r);
    log(`wrote ${paths.json} and ${paths.md}`);
    for (const a of r.aims) log(`${a.figure}: ${a.value ?? '—'} (aim ${a.aim}${a.met === null ? '' : a.met ? ', met' : ', NOT met'})`);
    cleanup();
  }
}

main().catch((err) => {
  console.error(`[bench:fill] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
