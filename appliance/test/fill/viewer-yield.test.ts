// Fill yields the CPU to viewers: while the box's CPU is busy and viewers are served, the shared
// bucket's rate is halved each tick down to a floor, and doubles back once they are not — for a
// manifest limit and for an unlimited fill. In the engine: only while downloads run.

import { describe, expect, it } from 'vitest';
import { FillRate, type ServingLoad } from '../../src/fill/viewer-yield.ts';
import { until, useRig } from './helpers/engine.ts';
import { manifest, startSource, testFile } from './helpers/source-server.ts';
import { VirtualClock } from './helpers/virtual-clock.ts';

const MB = 1_000_000;
const BUSY: ServingLoad = { cpu: 0.97, connections: 32, egressBps: 9e9 };
const IDLE: ServingLoad = { cpu: 0.2, connections: 32, egressBps: 9e9 };
const NO_VIEWERS: ServingLoad = { cpu: 1, connections: 0, egressBps: 0 };

describe('FillRate', () => {
  it('a limit is halved per contended tick down to 1/16, and doubles back to the limit', async () => {
    const clock = new VirtualClock();
    const r = new FillRate(clock);
    r.setLimit(10 * MB);
    const rates: number[] = [];
    for (const load of [BUSY, BUSY, BUSY, BUSY, BUSY, IDLE, IDLE, IDLE, IDLE, IDLE]) {
      await clock.run(clock.now() + 1000);
      r.tick(0, load);
      rates.push(r.bucket.rate / MB);
    }
    expect(rates).toEqual([5, 2.5, 1.25, 0.625, 0.625, 1.25, 2.5, 5, 10, 10]);
  });

  it('a busy CPU without viewers, or viewers on an idle CPU, or no download: no cut', async () => {
    const clock = new VirtualClock();
    const r = new FillRate(clock);
    r.setLimit(10 * MB);
    for (const load of [NO_VIEWERS, IDLE, null]) {
      await clock.run(clock.now() + 1000);
      r.tick(0, load);
      expect(r.bucket.rate).toBe(10 * MB);
    }
  });

  it('an unlimited fill is cut from the rate it was running at, and is unlimited again after', async () => {
    const clock = new VirtualClock();
    const r = new FillRate(clock);
    r.setLimit(0);
    await clock.run(clock.now() + 1000);
    r.tick(80 * MB, BUSY); // 80 MB in the last second
    expect(r.bucket.rate).toBe(40 * MB);
    await clock.run(clock.now() + 1000);
    r.tick(120 * MB, BUSY);
    expect(r.bucket.rate).toBe(20 * MB);
    for (let i = 0; i < 2; i++) {
      await clock.run(clock.now() + 1000);
      r.tick(150 * MB, IDLE);
    }
    expect(r.bucket.rate).toBe(0);
  });
});

describe('the engine yields to viewers', () => {
  const rig = useRig();

  it('cuts its rate while a download runs on a busy box serving viewers, and restores it after', async () => {
    const f = testFile('t1.a', 2 << 20);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { holdAfter: 64 << 10 });
    rig.sources.push(peer);
    const clock = new VirtualClock();
    let load: ServingLoad = BUSY;
    let looked = 0;
    const { engine } = await rig.open({ clock, servingLoad: () => (looked++, load) });
    const limitBps = 80 * MB;
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], rateLimitBps: limitBps }));
    // no download yet: the box's load is not even looked at
    await clock.run(clock.now() + 100);
    expect(looked).toBe(0);
    engine.start();
    await until('the download holds the source', () => peer.requests.length === 1 && engine.status().active.length === 1);
    await clock.run(clock.now() + 100); // four ticks (tickMs 25)
    expect(looked).toBeGreaterThan(0);
    expect(engine.status().rateLimitBps).toBeLessThan(limitBps);
    load = IDLE;
    await clock.run(clock.now() + 200);
    expect(engine.status().rateLimitBps).toBe(limitBps);
    peer.release();
  });
});
