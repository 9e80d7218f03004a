// `npm run bench:serve`: the appliance against Debian's nginx over the same files on this
// machine, driven by the same generators in one run, alternately. Writes bench/results/serve.json
// and serve.md. Knobs (environment): BENCH_SECONDS per round (10), BENCH_ROUNDS per server (2),
// BENCH_WARMUP seconds (2), BENCH_TRIAL_SECONDS per sendfile trial round (5),
// BENCH_PROFILE=<dir>: run the appliance under `node --cpu-prof` into <dir> (then summarise with
// profile-summary.ts; the figures of a profiled run are not representative); the viewers
// workload's VIEWERS_STEP_SECONDS (20), VIEWERS_MAX_STEPS (8), VIEWERS_START (1000), VIEWERS_MAX (16000),
// VIEWERS_CLIENTS (2).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filePath } from '../../appliance/src/store/layout.ts';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { envNum } from '../env.ts';
import { machine } from '../machine.ts';
import { pageCacheBytes, writeFileSet, type BenchFile } from './dataset.ts';
import { startEdgebox, type Edgebox } from './edgebox.ts';
import { round3 } from './measurement.ts';
import { NGINX_BIN, startNginx, type Nginx } from './nginx.ts';
import { writeResults, type NginxTrial, type ServeResults, type WorkloadResult } from './results.ts';
import { measured, runWorkload, type RangeFile, type Target } from './rounds.ts';
import { checkSameBytes } from './sanity.ts';
import { makeBenchCert } from './tls-cert.ts';
import { runViewersWorkload, VIEWERS_DESCRIBE, VIEWERS_WORKLOAD, viewersBoundSeconds, viewersNotes, viewersSettings, type ViewersWorkloadResult } from './viewers.ts';
import { FILE_BYTES, HOT_FILES, RAM_TIER_BYTES, WARM_FILES, WORKLOAD_NAMES, WORKLOADS, type Workload } from './workloads.ts';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const log = (msg: string) => console.log(`[bench:serve] ${msg}`);

/** BENCH_WORKLOADS=hot-tls,warm runs only those (a check of one workload; results are partial). */
function selectWorkloads(list: string | undefined): { ranges: Workload[]; viewers: boolean } {
  if (list === undefined || list.trim() === '') return { ranges: WORKLOADS, viewers: true };
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !WORKLOAD_NAMES.includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_WORKLOADS: no workload ${unknown.join(', ')} (have ${WORKLOAD_NAMES.join(', ')})`);
  return { ranges: WORKLOADS.filter((w) => names.includes(w.name)), viewers: names.includes(VIEWERS_WORKLOAD) };
}

async function main(): Promise<void> {
  const seconds = envNum('BENCH_SECONDS', 10);
  const rounds = Math.max(1, Math.round(envNum('BENCH_ROUNDS', 2)));
  const warmupSeconds = envNum('BENCH_WARMUP', 2);
  const trialSeconds = envNum('BENCH_TRIAL_SECONDS', 5);
  const workers = availableParallelism();
  const loadStart = loadavg()[0];
  const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
  const selected = selectWorkloads(process.env.BENCH_WORKLOADS);
  const viewerSettings = viewersSettings();
  if (!process.version.startsWith('v24.')) log(`WARNING: node ${process.version}, the project expects v24`);

  const work = mkdtempSync(join(tmpdir(), 'edgebox-bench-'));
  chmodSync(work, 0o755); // nginx's workers run as nobody
  const running: Array<{ stop(): Promise<void> }> = [];
  const cleanup = async () => {
    await Promise.allSettled(running.map((r) => r.stop()));
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  try {
    // the range workloads' files, appliance and sanity checks; a viewers-only run
    // (BENCH_WORKLOADS=viewers) has its own catalogue and appliance and needs none of them
    const docroot = join(work, 'docroot');
    // one certificate and TLS policy for both servers' HTTPS listeners (the TLS workloads)
    const cert = makeBenchCert(join(work, 'tls'));
    const kid = 'bench';
    const secret = randomBytes(24).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const ranged = selected.ranges.length > 0 ? await runRangeWorkloads() : undefined;

    async function runRangeWorkloads() {
      log(`writing ${HOT_FILES} hot + ${WARM_FILES} warm files of ${FILE_BYTES >> 20} MiB under ${work}`);
      const hot = writeFileSet(docroot, { titleId: 'bench-hot', count: HOT_FILES, bytes: FILE_BYTES });
      const warm = writeFileSet(docroot, { titleId: 'bench-warm', count: WARM_FILES, bytes: FILE_BYTES });

      // real tokens: the appliance verifies every request; nginx ignores the query string
      const tokens = new Map([
        ['bench-hot', signToken({ kid, secret, exp, title: 'bench-hot' })],
        ['bench-warm', signToken({ kid, secret, exp, title: 'bench-warm' })],
      ]);
      const rangeFiles = (fs: BenchFile[]): RangeFile[] =>
        fs.map((f) => ({ path: fileUrl('', f.fileId, tokens.get(f.titleId)), bytes: f.bytes }));
      const sets = { hot: rangeFiles(hot), warm: rangeFiles(warm), all: rangeFiles([...hot, ...warm]) };

      const { nginx, trial } = await nginxByTrial(sets.hot);
      const edgebox: Edgebox = await startEdgebox({
        dir: join(work, 'appliance'),
        files: [...hot, ...warm],
        hotFileIds: hot.map((f) => f.fileId),
        workers,
        ramTierBytes: RAM_TIER_BYTES,
        tokenKeys: { [kid]: secret },
        log,
        nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : undefined,
        tls: cert,
      });
      running.push(edgebox);

      const targets: [Target, Target] = [
        { name: 'edgebox', origin: edgebox.origin, pid: edgebox.pid },
        { name: 'nginx', origin: nginx.origin, pid: nginx.child.pid },
      ];
      await checkSameBytes(targets, [hot[0], warm[warm.length - 1]], tokens, log);
      const tlsTargets: [Target, Target] = [
        { name: 'edgebox', origin: edgebox.tlsOrigin!, pid: edgebox.pid },
        { name: 'nginx', origin: nginx.tlsOrigin!, pid: nginx.child.pid },
      ];
      await checkSameBytes(tlsTargets, [hot[0]], tokens, log, cert.caPem);

      const results: WorkloadResult[] = [];
      for (const w of selected.ranges) {
        log(`workload ${w.name}: ${w.describe}`);
        results.push(await runWorkload(w, w.tls ? tlsTargets : targets, sets[w.set], { seconds, rounds, warmupSeconds, scratch: work, log }));
      }

      const all = [...hot, ...warm];
      const pageCache = {
        data_set_bytes: all.reduce((a, f) => a + f.bytes, 0),
        nginx_resident_bytes: pageCacheBytes(all.map((f) => f.path)),
        appliance_resident_bytes: pageCacheBytes(all.map((f) => filePath(edgebox.app.config.storeRoot, f.fileId))),
      };
      // the viewers workload runs on an appliance of its own (its catalogue and RAM tier): this one goes
      await edgebox.stop();
      running.splice(running.indexOf(edgebox), 1);
      return { nginx, trial, results, pageCache, ramResidentBytes: edgebox.ramResidentBytes };
    }

    /** nginx with both sendfile settings, alternately on the hot workload; the faster one stays. */
    async function nginxByTrial(hotSet: RangeFile[]): Promise<{ nginx: Nginx; trial: NginxTrial[] }> {
      const ngOn = await startNginx({ docroot, prefix: join(work, 'nginx-sendfile-on'), sendfile: true, workers, tls: cert });
      running.push(ngOn);
      const ngOff = await startNginx({ docroot, prefix: join(work, 'nginx-sendfile-off'), sendfile: false, workers, tls: cert });
      running.push(ngOff);
      const hotWorkload = WORKLOADS.find((w) => w.name === 'hot')!;
      const trialRuns: Record<'on' | 'off', Array<{ gbps: number; p99_ms: number; cpu: number }>> = { on: [], off: [] };
      for (let round = 0; round < 2; round++) {
        const order: Nginx[] = round === 0 ? [ngOn, ngOff] : [ngOff, ngOn];
        for (const ng of order) {
          const r = await measured(hotWorkload, { name: 'nginx', origin: ng.origin, pid: ng.child.pid }, hotSet, trialSeconds, work);
          const gbps = (r.bytes * 8) / r.seconds / 1e9;
          trialRuns[ng.sendfile ? 'on' : 'off'].push({ gbps, p99_ms: r.p99_ms, cpu: r.cpu });
          log(`nginx trial sendfile ${ng.sendfile ? 'on' : 'off'}: ${round3(gbps)} Gb/s, p99 ${r.p99_ms} ms, cpu ${round3(r.cpu)}`);
        }
      }
      const mean = (xs: number[]) => round3(xs.reduce((a, b) => a + b, 0) / xs.length);
      const trial: NginxTrial[] = (['on', 'off'] as const).map((sf) => ({
        sendfile: sf,
        gbps: mean(trialRuns[sf].map((r) => r.gbps)),
        p99_ms: mean(trialRuns[sf].map((r) => r.p99_ms)),
        cpu: mean(trialRuns[sf].map((r) => r.cpu)),
      }));
      const nginx = trial[0].gbps >= trial[1].gbps ? ngOn : ngOff;
      const loser = nginx === ngOn ? ngOff : ngOn;
      await loser.stop();
      running.splice(running.indexOf(loser), 1);
      log(`nginx: keeping sendfile ${nginx.sendfile ? 'on' : 'off'}`);
      return { nginx, trial };
    }

    // a viewers-only run has no hot workload to try sendfile on: BENCH_NGINX_SENDFILE (off, what
    // the full quiet runs on this machine chose) says which, and the results say it was not tried
    let nginx: Nginx;
    if (ranged) nginx = ranged.nginx;
    else {
      const sendfile = (process.env.BENCH_NGINX_SENDFILE ?? 'off') === 'on';
      nginx = await startNginx({ docroot, prefix: join(work, `nginx-sendfile-${sendfile ? 'on' : 'off'}`), sendfile, workers, tls: cert });
      running.push(nginx);
      log(`nginx: sendfile ${sendfile ? 'on' : 'off'} (BENCH_NGINX_SENDFILE; no range workload to try both on)`);
    }
    const results = ranged?.results ?? [];
    const pageCache = ranged?.pageCache;

    // the viewers workload runs on an appliance of its own (its catalogue and RAM tier): this one goes
    let viewers: ViewersWorkloadResult | undefined;
    if (selected.viewers) {
      log(`workload viewers: ${VIEWERS_DESCRIBE}; at most ${viewersBoundSeconds(viewerSettings)} s of steps`);
      viewers = await runViewersWorkload({
        work, docroot, cert, kid, secret, exp, workers, log,
        nginx: { origin: nginx.origin, tlsOrigin: nginx.tlsOrigin!, pid: nginx.child.pid },
        ramTierBytes: RAM_TIER_BYTES,
        settings: viewerSettings,
      });
    }

    const m = machine(loadStart);
    const out: ServeResults = {
      bench: 'serve',
      date: new Date().toISOString(),
      node: process.version,
      machine: m,
      page_cache: pageCache ?? null,
      settings: { seconds_per_round: seconds, rounds, warmup_seconds: warmupSeconds },
      nginx: {
        version: nginxVersion(),
        workers: nginx.workers,
        chosen: { sendfile: nginx.sendfile ? 'on' : 'off' },
        trial: ranged?.trial ?? [],
        config: nginx.config.replaceAll(work, '<bench-dir>'),
      },
      edgebox: {
        workers,
        ram_tier_bytes: RAM_TIER_BYTES,
        ram_resident_bytes: ranged?.ramResidentBytes ?? null,
        hot_set_bytes: HOT_FILES * FILE_BYTES,
        warm_set_bytes: WARM_FILES * FILE_BYTES,
      },
      workloads: results,
      ...(viewers ? { viewers } : {}),
      notes: [
        ...(profileDir ? ['PROFILED RUN (node --cpu-prof on the appliance): figures are not representative.'] : []),
        `Server, load generator and other processes share the same ${m.cores} cores over loopback: absolute figures are this machine's, the ratios are the point.`,
        ...(pageCache ? rangeNotes(pageCache, ranged?.ramResidentBytes, m.memory_gib) : []),
        ...(viewers ? viewersNotes(viewers) : []),
      ],
    };
    // a profiled run never replaces the committed results
    // nor does a run of some workloads only (BENCH_WORKLOADS): it goes to a scratch directory
    const partial = selected.ranges.length < WORKLOADS.length || !selected.viewers ? join(tmpdir(), 'edgebox-serve-partial') : undefined;
    const paths = writeResults(profileDir ?? partial ?? RESULTS_DIR, out);
    log(`wrote ${paths.json} and ${paths.md}`);
    for (const w of results) {
      log(`${w.name}: ratio ${w.ratio} on ${w.main}${w.target ? ` (target ${w.target}: ${w.meets ? 'met' : 'NOT met'})` : ''}`);
    }
    if (viewers) {
      for (const p of ['http', 'https'] as const) {
        log(`viewers ${p}: edgebox ${viewers.maxViewers[p].edgebox}, nginx ${viewers.maxViewers[p].nginx}, ratio ${viewers.ratio[p]} ` +
          `(target ${viewers.target}: ${viewers.meets[p] ? 'met' : 'NOT met'})`);
      }
    }
  } finally {
    await cleanup();
  }
}

/** What the range workloads' figures mean on this machine (none in a viewers-only run). */
function rangeNotes(pageCache: NonNullable<ServeResults['page_cache']>, ramResidentBytes: number | undefined, memoryGib: number): string[] {
  const gib = (b: number) => round3(b / 2 ** 30);
  const cachedShare = Math.min(pageCache.nginx_resident_bytes, pageCache.appliance_resident_bytes) / pageCache.data_set_bytes;
  return [
    `After the workloads the page cache held ${gib(pageCache.nginx_resident_bytes)} GiB of nginx's copy and ${gib(pageCache.appliance_resident_bytes)} GiB of the appliance's copy of the ${gib(pageCache.data_set_bytes)} GiB data set (fincore; ${memoryGib} GiB of memory)` +
      (cachedShare >= 0.95 ? ', so the warm workload measures the appliance\'s disk-tier path against nginx reading cached files, not disk speed.' : ': part of the warm workload was read from disk.'),
    'autocannon is a single JavaScript thread: on small ranges it saturates before either server does; compare cpu (cores the server used) alongside req/s, and see small-wrk (native client, no target) for what the servers themselves answer.',
    `small, small-wrk and conn1k draw ranges from all ${HOT_FILES + WARM_FILES} files: about ${Math.round((ramResidentBytes ?? 0) / FILE_BYTES)} resident in the appliance's RAM tier, the rest served from its disk tier.`,
    'Main figures: hot and warm are judged on Gb/s, small on req/s, conn1k on p99 latency (ratio = edgebox p99 ÷ nginx p99, lower is better).',
  ];
}

function nginxVersion(): string {
  // nginx -v prints "nginx version: nginx/1.22.1" on stderr
  const r = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.replace('nginx version:', '').trim() || 'unknown';
}

// exit once the results are written: something the run opened keeps the loop alive after cleanup
// (seen with and without viewers, not yet found), and a bench that never returns stalls its caller
main().then(() => process.exit(0), (err) => {
  console.error(`[bench:serve] failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
