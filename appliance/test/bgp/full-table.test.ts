// A 100,000-prefix table from BIRD (a static protocol the test generates): every prefix arrives,
// End-of-RIB follows, and the load time is printed (not asserted: tests do not assert timings).

import { afterEach, describe, expect, it } from 'vitest';
import { freePort, loopbackPair, speakerFacing, startBird, waitFor } from './helpers/routers.ts';

const COUNT = 100_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function staticRoutes(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`route ${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 blackhole;`);
  return lines.join('\n');
}

describe('a full table', () => {
  it(`loads ${COUNT} prefixes from BIRD`, async () => {
    const [birdAddr, ourAddr] = loopbackPair();
    const birdPort = await freePort(birdAddr);
    const bird = await startBird(`
router id 10.255.0.1;
protocol device {}
protocol static big { ipv4; ${staticRoutes(COUNT)} }
protocol bgp edge {
  local ${birdAddr} port ${birdPort} as 65001;
  neighbor ${ourAddr} as 64512;
  multihop; passive on; strict bind on; hold time 30;
  ipv4 { import none; export filter { bgp_path.prepend(65010); bgp_community.add((65001,100)); accept; }; };
}
`);
    cleanups.push(() => bird.stop());
    const speaker = speakerFacing({ address: birdAddr, port: birdPort, localAddress: ourAddr, holdTime: 30, families: ['ipv4'] }, cleanups);
    const heapBefore = process.memoryUsage().heapUsed;
    await speaker.start();
    const t0 = await waitFor('established', () => speaker.status()[0].state === 'Established' && performance.now(), 20000, 5);
    const cpu0 = process.cpuUsage();
    await waitFor('end-of-rib', () => speaker.stats.endOfRib > 0, 120000, 5);
    const loadMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    expect(speaker.rib.count(birdAddr)).toBe(COUNT);
    const h0 = performance.now();
    const snap = speaker.rib.snapshot();
    const hashMs = performance.now() - h0;
    expect(snap.routes).toHaveLength(COUNT);
    expect(snap.routes[0]).toMatchObject({ prefix: '20.0.0.0/24', asPathLength: 2, communities: ['65001:100'] });
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`BGP full table: ${COUNT} prefixes loaded from BIRD in ${loadMs.toFixed(0)} ms ` +
      `(Established → End-of-RIB, ${speaker.stats.updates} UPDATEs, our CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms); sorted+hashed in ${hashMs.toFixed(0)} ms; heap +${heapMb.toFixed(0)} MB`);
  }, 180_000);
});
