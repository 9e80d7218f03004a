// The bench's control process: build the world into a real control service, time steering in
// process (steady, then beside a stream of prefix deltas), then serve HTTP for the parent's load
// generators (steering queries and whole playback starts). Talks to the parent in JSON lines.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseAddress } from '../../protocol/index.ts';
import { Control } from '../../control/src/control.ts';
import { buildApp } from '../../control/src/http/app.ts';
import { secretHash } from '../../control/src/credentials.ts';
import { loadSettings } from '../../control/src/settings.ts';
import { steer } from '../../control/src/steering/steer.ts';
import { UpdatingAppliance, type PhaseResult } from './updates.ts';
import { seededRandom as rng } from '../../protocol/index.ts';
import { buildWorld, registerTitles, titleIdsFor } from './world.ts';
import { timeInProcess } from './inprocess.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const size = { prefixes: arg('prefixes', 1_000_000), appliances: arg('appliances', 10_000), titles: 200, regions: 10, seed: 42 };
const inprocessSeconds = arg('seconds', 10);
const inprocessRounds = arg('rounds', 5);
/** issue 12's p99 aim: decisions slower than this are checked against the GC pauses of their round */
const SLOW_US = 30;
const updateSeconds = arg('update-seconds', 2);
const updateRounds = arg('update-rounds', 3);
const updateRate = arg('update-rate', 1000);
const updatingRoutes = Math.min(arg('updating-routes', 100_000), size.prefixes);
const accounts = arg('accounts', 10_000);
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const MiB = 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

// A file store, as control runs in production (":memory:" would count the persisted route sets
// as the route table's memory). Removed at exit.
const work = mkdtempSync(join(tmpdir(), 'edgebox-steering-bench-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const settings = loadSettings({
  port: 0, dbPath: join(work, 'control.db'), logLevel: 'silent', operatorToken: 'bench-operator-token', kek: '00'.repeat(32),
  urlTokenSecret: 'bench-url-token-secret', originUrl: 'http://origin.example.net',
  // The real clock, but appliances stay fresh for the whole run (10 min): only those the world
  // made stale (an hour old) are.
  reportIntervalMs: 10_000, staleIntervals: 60,
  // Sessions lapse after 2 s without a heartbeat, so the accounts' stream limits keep room for
  // the playback load (it never sends heartbeats).
  sessionTtlMs: 2_000,
  // The load generator sets X-Forwarded-For to a viewer address from the world.
  trustedProxies: ['127.0.0.1/32'],
}, {});
const control = await Control.open({ settings, log: pino({ level: 'silent' }) });

await registerTitles(control, titleIdsFor(size));
gc();
const mem0 = process.memoryUsage();
const t0 = performance.now();
const world = buildWorld(control, size);
const t2 = performance.now();
await control.flush(); // the bench's appliances are not in the store; get the batch out of the way
const t3 = performance.now();
gc();
const mem = process.memoryUsage();
say({
  type: 'built', buildMs: t3 - t0, generateMs: t2 - t0 - world.applyMs, tableBuildMs: world.applyMs, flushMs: t3 - t2,
  prefixes: control.fleet.routes.prefixCount, routeEntries: control.fleet.routes.routeCount,
  appliances: control.fleet.size, titles: world.titleIds.length, clients: world.clients.length,
  rssMiB: mem.rss / MiB, rssBeforeMiB: mem0.rss / MiB, rssDeltaMiB: (mem.rss - mem0.rss) / MiB,
  heapUsedMiB: mem.heapUsed / MiB, heapDeltaMiB: (mem.heapUsed - mem0.heapUsed) / MiB,
  externalMiB: mem.external / MiB, routeTableMiB: control.fleet.routes.bytes / MiB,
  bytesPerRoute: (mem.rss - mem0.rss) / control.fleet.routes.routeCount,
});

// In process: parse the address and decide, as the play handler does; timed one by one.
const r = rng(7);
const opts = { topK: settings.topK, fallbackK: settings.fallbackK, originUrl: settings.originUrl };
const misses: Record<string, number> = {};
const tiers: Record<string, number> = {};
const decide = (record: boolean) => {
  const ip = world.clients[Math.floor(r() * world.clients.length)];
  const titleId = world.titleIds[Math.floor(r() * world.titleIds.length)];
  const region = world.regions[Math.floor(r() * world.regions.length)];
  const address = parseAddress(ip)!;
  const title = control.catalog.get(titleId)!;
  const d = steer(control.fleet, { address, titleId, fileIds: title.fileIds, region, now: control.now() }, opts);
  if (record) {
    if (d.miss) misses[d.miss] = (misses[d.miss] ?? 0) + 1;
    const first = d.targets[0].tier;
    tiers[first] = (tiers[first] ?? 0) + 1;
  }
};
for (let i = 0; i < 200_000; i++) decide(false); // warm-up: let the JIT (and the GC after the build) settle before timing

// Timed in rounds (inprocess.ts): the median round is the figure, min–max the spread, and each
// round says what GC and the machine took of it.
const inprocess = await timeInProcess(decide, inprocessSeconds, inprocessRounds, SLOW_US);
say({ type: 'inprocess', ...inprocess, firstTier: tiers, misses });

// Incremental updates beside steering.
const allFiles = world.titleIds.flatMap((t) => [`${t}.v1`, `${t}.v2`, `${t}.a1`]);
const tb = performance.now();
const updating = new UpdatingAppliance(control, world.prefixes, updatingRoutes, world.regions[0], allFiles);
const addMs = performance.now() - tb;
await control.flush();
// Steady and with-deltas phases alternate, so a burst of other work on the machine does not
// land on one side only; the figures are over all rounds.
const rounds: { steady: PhaseResult; during: PhaseResult }[] = [];
for (let i = 0; i < updateRounds; i++) {
  const steady = await updating.phase(updateSeconds, 0, () => decide(false));
  rounds.push({ steady, during: await updating.phase(updateSeconds, updateRate, () => decide(false)) });
}
const over = (xs: PhaseResult[]) => {
  const seconds = xs.reduce((n, x) => n + x.seconds, 0), decisions = xs.reduce((n, x) => n + x.decisions, 0), changes = xs.reduce((n, x) => n + x.changes, 0);
  const p50s = xs.map((x) => x.change_p50_us).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const p99s = xs.map((x) => x.change_p99_us).filter((x): x is number => x !== null);
  return {
    seconds, decisions, decisionsPerSec: decisions / seconds, changes, changesPerSec: changes / seconds,
    change_p50_us: p50s.length ? p50s[p50s.length >> 1] : null, change_p99_us: p99s.length ? Math.max(...p99s) : null,
  };
};
const steady = over(rounds.map((x) => x.steady)), during = over(rounds.map((x) => x.during));
const persistMs = await updating.persistMs();
const fullReplaceMs = updating.fullReplaceMs();
say({
  type: 'incremental', routesHeld: updating.routes, targetChangesPerSec: updateRate, firstFullReportMs: addMs, fullReplaceMs, routesPersistMs: persistMs,
  steady, during, rateRatio: during.decisionsPerSec / steady.decisionsPerSec, rounds,
  deltasApplied: control.fleet.stats.prefixDeltasApplied, deltasRefused: control.fleet.stats.prefixDeltasRefused,
});

// Viewers for the playback load: accounts (premium: 4 streams each) with one profile each.
const ta = performance.now();
const lines: string[] = [];
for (let i = 0; i < accounts; i++) {
  const accountId = `acc-bench-${i}`, token = `bench-account-token-${i}`, profileId = `prf-bench-${i}`;
  await control.repo.addAccount({ accountId, name: accountId, plan: 'premium', region: world.regions[i % world.regions.length], status: 'active' }, secretHash(token));
  await control.repo.addProfile({ profileId, accountId, name: 'p' });
  lines.push(`${token} ${profileId}`);
}
const accountsMs = performance.now() - ta;
const wrkData = {
  accounts: join(work, 'accounts.txt'), clients: join(work, 'clients.txt'), titles: join(work, 'titles.txt'), regions: join(work, 'regions.txt'),
};
writeFileSync(wrkData.accounts, lines.join('\n') + '\n');
writeFileSync(wrkData.clients, world.clients.join('\n') + '\n');
writeFileSync(wrkData.titles, world.titleIds.join('\n') + '\n');
writeFileSync(wrkData.regions, world.regions.join('\n') + '\n');

await control.flush(); // the updates phase's last writes, before the HTTP runs
const app = buildApp(control);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
say({
  type: 'listening', url, token: settings.operatorToken, clients: world.clients.slice(0, 200_000), titleIds: world.titleIds,
  regions: world.regions, wrkData, accounts, accountsMs,
});
// --profile-http <file>: a V8 CPU profile of control while it serves the HTTP runs (see
// bench/serve/profile-summary.ts to read it).
const profileFile = process.argv.includes('--profile-http') ? process.argv[process.argv.indexOf('--profile-http') + 1] : '';
const inspector = profileFile ? new Session() : null;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
process.once('SIGTERM', () => {
  void (async () => {
    if (inspector) writeFileSync(profileFile, JSON.stringify((await inspector.post('Profiler.stop')).profile));
    await app.close();
    await control.close();
    process.exit(0);
  })();
});
