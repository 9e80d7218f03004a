// The bench's control process: build the world into a real control service, time steering in
// process, then serve HTTP for the parent's autocannon run. Talks to the parent in JSON lines.

import pino from 'pino';
import { parseAddress } from '../../protocol/index.ts';
import { Control } from '../../control/src/control.ts';
import { buildApp } from '../../control/src/http/app.ts';
import { loadSettings } from '../../control/src/settings.ts';
import { steer } from '../../control/src/steering/steer.ts';
import { buildWorld, rng } from './world.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const size = { prefixes: arg('prefixes', 1_000_000), appliances: arg('appliances', 10_000), titles: 200, regions: 10, seed: 42 };
const inprocessSeconds = arg('seconds', 10);
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

const settings = loadSettings({
  port: 0, dbPath: ':memory:', logLevel: 'silent', operatorToken: 'bench-operator-token', kek: '00'.repeat(32),
  urlTokenSecret: 'bench-url-token-secret', originUrl: 'http://origin.example.net',
}, {});
// A frozen clock: the minute the build takes must not turn the whole fleet stale.
const frozen = Date.now();
const control = new Control({ settings, log: pino({ level: 'silent' }), clock: () => frozen });
const t0 = performance.now();
const world = buildWorld(control, size);
control.flush(); // the bench's appliances are not in the store; get the batch out of the way
const buildMs = performance.now() - t0;
globalThis.gc?.();
const mem = process.memoryUsage();
say({
  type: 'built', buildMs, prefixes: control.fleet.routes.prefixCount, routeEntries: world.routeEntries,
  appliances: control.fleet.size, titles: world.titleIds.length, clients: world.clients.length,
  rssMiB: mem.rss / 2 ** 20, heapUsedMiB: mem.heapUsed / 2 ** 20,
});

// In process: parse the address and decide, as the play handler does; timed one by one.
const r = rng(7);
const opts = { topK: settings.topK, fallbackK: settings.fallbackK, originUrl: settings.originUrl };
const maxSamples = 5_000_000;
const lat = new Float64Array(maxSamples);
let n = 0;
const misses: Record<string, number> = {};
const tiers: Record<string, number> = {};
const end = performance.now() + inprocessSeconds * 1000;
const now = control.now();
const loopStart = performance.now();
while (n < maxSamples) {
  if ((n & 1023) === 0 && performance.now() > end) break;
  const ip = world.clients[Math.floor(r() * world.clients.length)];
  const titleId = world.titleIds[Math.floor(r() * world.titleIds.length)];
  const region = world.regions[Math.floor(r() * world.regions.length)];
  const s = performance.now();
  const address = parseAddress(ip)!;
  const title = control.catalog.get(titleId)!;
  const d = steer(control.fleet, { address, titleId, fileIds: title.fileIds, region, now }, opts);
  lat[n++] = performance.now() - s;
  if (d.miss) misses[d.miss] = (misses[d.miss] ?? 0) + 1;
  const first = d.targets[0].tier;
  tiers[first] = (tiers[first] ?? 0) + 1;
}
const elapsed = (performance.now() - loopStart) / 1000;
const sorted = lat.subarray(0, n).sort();
const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))];
const total = sorted.reduce((a, b) => a + b, 0);
say({
  type: 'inprocess', decisions: n, seconds: elapsed, decisionsPerSec: n / elapsed, busyDecisionsPerSec: n / (total / 1000), p50_us: q(0.5) * 1000, p99_us: q(0.99) * 1000, max_us: sorted[n - 1] * 1000,
  firstTier: tiers, misses,
});

const app = buildApp(control);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
say({ type: 'listening', url, token: settings.operatorToken, clients: world.clients.slice(0, 200_000), titleIds: world.titleIds, regions: world.regions });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
