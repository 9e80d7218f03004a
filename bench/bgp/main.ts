// `npm run bench:bgp`: a full table from BIRD into the appliance's BGP speaker, and on to control.
//  1. BIRD 2 holds a made-up table (1,000,000 routes by default, IPv4 and IPv6, 50,000 attribute
//     sets) and exports it over one eBGP session; the speaker (its own process) dials it.
//  2. Established → End-of-RIB for both families is timed in the speaker process, with its CPU,
//     and its heap and RSS after a GC before the session and with the table in: bytes per route.
//  3. The reporter sends the table to control (in this process): bytes of the full report, time
//     until control holds every route with the appliance's hash.
//  4. BIRD withdraws a block of routes and announces it again: each reaches control as a delta
//     (bytes, time), and control's hash of what it holds equals the RIB's.
// Writes bench/results/bgp.json (top-level fullTableSeconds and bytesPerRoute) and bgp.md.
// Options: --routes N --v6-share F --attr-sets N --churn N. A few minutes with the defaults.
// BGP_BENCH_PROFILE=<dir>: a V8 CPU profile of the speaker process (bench/serve/profile-summary.ts);
// BGP_BENCH_NODE_FLAGS='…': extra node flags for it (e.g. --max-semi-space-size=16).

import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Control } from '../../control/src/control.ts';
import { buildApp } from '../../control/src/http/app.ts';
import { loadSettings } from '../../control/src/settings.ts';
import { startBird } from './bird.ts';
import { renderMarkdown } from './report.ts';
import { birdConfig, makeTable } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const spec = { routes: arg('routes', 1_000_000), v6Share: arg('v6-share', 0.2), attrSets: arg('attr-sets', 50_000), churn: arg('churn', 1_000), seed: 12 };
const log = (s: string) => console.error(`[bgp bench] ${s}`);
const MiB = 2 ** 20;
const loadBefore = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), 'edgebox-bgp-bench-'));
const cleanups: (() => unknown)[] = [() => rmSync(work, { recursive: true, force: true })];
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(stepMs);
  }
}

try {
  // 1. The table and BIRD.
  let t = performance.now();
  const table = makeTable(spec);
  const birdAddr = '127.77.0.1', ourAddr = '127.77.0.2', birdPort = 17900 + Math.floor(Math.random() * 1000);
  const config = birdConfig(table, birdAddr, birdPort, ourAddr);
  log(`table: ${table.v4.length} IPv4 + ${table.v6.length} IPv6 + ${table.churn.length} churn routes, ${spec.attrSets} attribute sets; config ${(config.length / MiB).toFixed(0)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const bird = await startBird(config);
  cleanups.push(() => bird.stop());
  const total = spec.routes;
  await until('BIRD to load the table', async () => (await bird.routesLoaded()) >= total, 600_000, 500);
  const birdLoadSeconds = (performance.now() - t) / 1000;
  log(`BIRD up with ${total} routes after ${birdLoadSeconds.toFixed(1)} s`);

  // Control, in this process, with a site and an enrollment token for the reporter.
  const token = 'bgp-bench-enrollment-token-0001';
  const settings = loadSettings({
    port: 0, dbPath: join(work, 'control.db'), logLevel: 'silent', operatorToken: 'bgp-bench-operator-token', kek: '00'.repeat(32),
    urlTokenSecret: 'bgp-bench-url-token-secret', originUrl: 'http://origin.example.net', enrollmentTokens: [{ token, siteId: 'bench' }],
    reportIntervalMs: 1000, staleIntervals: 600,
  }, {});
  const control = await Control.open({ settings, log: pino({ level: 'silent' }) });
  await control.repo.putSite({ siteId: 'bench', kind: 'embedded', region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });
  const app = buildApp(control);
  const reportBytes: { at: number; bytes: number }[] = [];
  app.addHook('onRequest', async (req) => {
    if (req.url.endsWith('/report')) reportBytes.push({ at: performance.now(), bytes: Number(req.headers['content-length'] ?? 0) });
  });
  const controlUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => { await app.close(); await control.close(); });

  // 2. The speaker, in its own process. BIRD is idle until the session opens, so its CPU time
  // from here to End-of-RIB is what sending the table cost it.
  const birdCpu0 = bird.cpuSeconds();
  const child = fork(join(here, 'speaker-child.ts'), [JSON.stringify({
    bgp: {
      localAsn: 64512, routerId: '10.255.0.2',
      neighbors: [{ address: birdAddr, port: birdPort, localAddress: ourAddr, peerAsn: 65001, holdTime: 90, connectRetry: 1, import: { maxPrefixes: 2 * total } }],
    },
    controlUrl, stateDir: work, enrollmentToken: token, reportIntervalMs: 1000,
  })], { execArgv: ['--expose-gc', '--max-old-space-size=4096', ...(process.env.BGP_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...(process.env.BGP_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BGP_BENCH_PROFILE}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const childExit = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(async () => {
    // It was told to stop (a CPU profile is written on the way out); kill it if it hangs.
    await Promise.race([childExit, wait(15_000)]);
    child.kill('SIGKILL');
  });
  const inbox: any[] = [];
  child.on('message', (m) => inbox.push(m));
  const next = (type: string, timeoutMs: number) => until(type, () => {
    const i = inbox.findIndex((m) => m.type === type);
    return i >= 0 ? inbox.splice(i, 1)[0] : undefined;
  }, timeoutMs, 10);
  await next('ready', 30_000);
  const loaded = await next('loaded', 600_000);
  const birdCpuSeconds = bird.cpuSeconds() - birdCpu0;
  const routes = loaded.routes as number;
  log(`speaker: ${routes} routes in ${loaded.seconds.toFixed(2)} s (Established → End-of-RIB), ${loaded.stats.updates} UPDATEs, CPU ${loaded.cpuSeconds.toFixed(2)} s (BIRD ${birdCpuSeconds.toFixed(2)} s)`);
  if (routes !== total) throw new Error(`the speaker holds ${routes} routes, BIRD sent ${total}`);
  const rssDelta = loaded.after.rss - loaded.before.rss, heapDelta = loaded.after.heapUsed - loaded.before.heapUsed;
  const idleRssDelta = loaded.idle.rss - loaded.before.rss;

  // 3. The reporter's first report: the whole table, to control.
  const status = async () => { child.send({ cmd: 'status' }); return next('status', 120_000); };
  const atControl = () => {
    const a = [...control.fleet.all()][0];
    return a ? { routes: a.routes.length, hash: a.prefixHash } : { routes: 0, hash: undefined };
  };
  t = performance.now();
  child.send({ cmd: 'report' });
  await until('control to hold the table', () => atControl().routes === total && atControl().hash === loaded.hash, 300_000);
  const fullSync = { seconds: (performance.now() - t) / 1000, bytes: Math.max(...reportBytes.map((r) => r.bytes)) };
  log(`full sync: ${(fullSync.bytes / MiB).toFixed(1)} MiB report, control holds the table after ${fullSync.seconds.toFixed(2)} s`);
  const controlRss = process.memoryUsage().rss;

  // 4. Churn: withdraw a block at BIRD, then announce it again; each reaches control as a delta.
  // BGP_BENCH_CONTROL_PROFILE=<file>: a CPU profile of this process (control) from here on.
  const prof = process.env.BGP_BENCH_CONTROL_PROFILE ? new Session() : null;
  if (prof) {
    prof.connect();
    await prof.post('Profiler.enable');
    await prof.post('Profiler.start');
    cleanups.push(async () => writeFileSync(process.env.BGP_BENCH_CONTROL_PROFILE!, JSON.stringify((await prof.post('Profiler.stop')).profile)));
  }
  const churnPhase = async (cmd: 'disable churn' | 'enable churn', want: number) => {
    const seen = reportBytes.length;
    const stats0 = (await status()).reporter;
    const t0 = performance.now();
    await bird.birdc(cmd);
    await until(`rib after "${cmd}"`, async () => (await status()).routes === want, 60_000, 20);
    const ribAt = (performance.now() - t0) / 1000;
    const s = await status();
    await until(`control after "${cmd}"`, () => atControl().routes === want && atControl().hash === s.hash, 120_000, 10).catch(async (e) => {
      throw new Error(`${(e as Error).message}: control ${JSON.stringify(atControl())}, appliance ${JSON.stringify(await status())}, fleet ${JSON.stringify(control.fleet.stats)}`);
    });
    const controlSeconds = (performance.now() - t0) / 1000;
    const deltas = reportBytes.slice(seen).filter((r) => r.bytes > 2_000);
    const stats1 = (await status()).reporter;
    return {
      routesAfter: want, ribSeconds: ribAt, controlSeconds, reportBytes: deltas.map((r) => r.bytes), hashEqual: atControl().hash === s.hash,
      fullReports: stats1.fullPrefixes - stats0.fullPrefixes, deltaReports: stats1.prefixDeltas - stats0.prefixDeltas,
    };
  };
  const withdraw = await churnPhase('disable churn', total - spec.churn);
  const announce = await churnPhase('enable churn', total);
  const final = await status();
  log(`churn: ${spec.churn} withdrawn → control in ${withdraw.controlSeconds.toFixed(2)} s (${withdraw.reportBytes.join('+')} B), announced → ${announce.controlSeconds.toFixed(2)} s (${announce.reportBytes.join('+')} B)`);
  child.send({ cmd: 'stop' });

  const result = {
    bench: 'bgp',
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), kernel: release(),
      loadavg_1m_before: loadBefore, loadavg_1m_after: loadavg()[0],
    },
    command: `npm run bench:bgp${argv.length ? ' -- ' + argv.join(' ') : ''}`,
    fullTableSeconds: loaded.seconds,
    bytesPerRoute: rssDelta / routes,
    table: { routes, ipv4: table.v4.length + table.churn.length, ipv6: table.v6.length, attributeSets: spec.attrSets, router: 'BIRD 2.0.12 (static routes, one eBGP session carrying both families)', birdLoadSeconds, birdCpuSeconds },
    speaker: {
      seconds: loaded.seconds, cpuSeconds: loaded.cpuSeconds, routesPerSecond: routes / loaded.seconds, updates: loaded.stats.updates,
      attributeSetsHeld: loaded.attributeSets, rssBeforeMiB: loaded.before.rss / MiB, rssAfterMiB: loaded.after.rss / MiB,
      heapBeforeMiB: loaded.before.heapUsed / MiB, heapAfterMiB: loaded.after.heapUsed / MiB, peakRssMiB: loaded.maxRss / MiB,
      rssBytesPerRoute: rssDelta / routes, heapBytesPerRoute: heapDelta / routes,
      rssIdleMiB: loaded.idle.rss / MiB, idleRssBytesPerRoute: idleRssDelta / routes, heapTotalAfterMiB: loaded.after.heapTotal / MiB,
      newSpaceAfterMiB: loaded.after.newSpace / MiB, nodeFlags: process.env.BGP_BENCH_NODE_FLAGS ?? '',
    },
    report: {
      fullSync: { ...fullSync, bytesPerRoute: fullSync.bytes / routes },
      withdraw, announce,
      reporterStats: final.reporter,
      controlRssMiB: controlRss / MiB,
    },
    notes: [
      'fullTableSeconds: from the session reaching Established to End-of-RIB for both IPv4 and IPv6, timed in the speaker process; BIRD had the whole table loaded before the session opened',
      'bytesPerRoute: the speaker process\'s RSS after a GC with the table in, less its RSS after a GC before the session, per route (heapBytesPerRoute the same for the V8 heap alone); most of the difference is V8\'s young generation, which grows to 128 MiB during the load and stays committed (newSpaceAfterMiB) — node --max-semi-space-size=16 keeps it at 32 MiB (BGP_BENCH_NODE_FLAGS)',
      'the reporter sends the full set once, grouped by attribute set, then deltas; control checks each delta\'s route-set hash against its own (hashEqual)',
      'BIRD, the speaker, control and this process share the machine\'s cores; loadavg before/after is recorded',
    ],
  };
  const out = join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bgp.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'bgp.md'), renderMarkdown(result));
  console.log(renderMarkdown(result));
  await wait(200);
} finally {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
}
process.exit(0);
