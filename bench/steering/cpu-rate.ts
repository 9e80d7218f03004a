// `node bench/steering/cpu-rate.ts [--prefixes N] [--appliances N] [--cpu-seconds S] [--measured 0|1]`: steering
// decisions per CPU-second of this process, in process, on the steering bench's world. A quick
// before/after check of the hot path that a busy shared machine does not skew the way wall-clock
// rates are skewed: the process's own user+system time is the denominator. The fleet is built
// bare (no store, no HTTP), as steer() only reads it; prints one JSON line. With `--measured 1`
// every client's prefix has throughput cells (throughput.ts) for three appliances, so steering
// pays for the lookup on every decision.

import { parseAddress, seededRandom as rng } from '../../protocol/index.ts';
import type { Control } from '../../control/src/control.ts';
import { Fleet } from '../../control/src/steering/fleet.ts';
import { steer } from '../../control/src/steering/steer.ts';
import { ThroughputBook } from '../../control/src/steering/throughput.ts';
import { buildWorld } from './world.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const size = { prefixes: arg('prefixes', 100_000), appliances: arg('appliances', 1_000), titles: 200, regions: 10, seed: 42 };
const cpuSeconds = arg('cpu-seconds', 5);
const now = Date.now();
const fleet = new Fleet({ staleAfterMs: 600_000, overloadEnter: 0.9, overloadLeave: 0.75 });
// buildWorld needs only the clock and the fleet of a Control.
const world = buildWorld({ now: () => now, fleet } as unknown as Control, size);
const filesOf = new Map(world.titleIds.map((t) => [t, [`${t}.v1`, `${t}.v2`, `${t}.a1`]]));
const measured = arg('measured', 0) === 1;
const throughput = measured ? new ThroughputBook({ minEvidenceMs: 1 }) : undefined;
const r = rng(7);
if (throughput) {
  for (const ip of world.clients) {
    const key = throughput.keyOf(parseAddress(ip)!);
    for (let k = 0; k < 3; k++) throughput.record(key, Math.floor(r() * fleet.size), 500 + r() * 5000, 10_000, now);
  }
}
const opts = { topK: 3, fallbackK: 1, originUrl: 'http://origin.example.net', throughput };
const decide = () => {
  const address = parseAddress(world.clients[Math.floor(r() * world.clients.length)])!;
  const titleId = world.titleIds[Math.floor(r() * world.titleIds.length)];
  const region = world.regions[Math.floor(r() * world.regions.length)];
  return steer(fleet, { address, titleId, fileIds: filesOf.get(titleId)!, region, now }, opts);
};
for (let i = 0; i < 200_000; i++) decide(); // warm-up, as the bench does

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const c0 = cpu();
let n = 0;
while (cpu() - c0 < cpuSeconds) for (let i = 0; i < 10_000; i++, n++) decide();
const used = cpu() - c0;
console.log(JSON.stringify({ ...size, measured, prefixesMeasured: throughput?.size ?? 0, decisions: n, cpuSeconds: used, decisionsPerCpuSecond: Math.round(n / used) }));
