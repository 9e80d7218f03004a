import { describe, expect, it } from 'vitest';
import { LoadMeter } from '../../src/daemon/load-meter.ts';

describe('LoadMeter', () => {
  it('turns worker byte counters into egress bits/s, surviving a worker restart', () => {
    let now = 0;
    const m = new LoadMeter(() => now);
    m.report(0, { bytesTotal: 1_000, diskErrors: 0, connections: 3, inFlight: 1 });
    m.report(1, { bytesTotal: 500, diskErrors: 0, connections: 2, inFlight: 0 });
    now = 1_000;
    let l = m.sample();
    expect(l.egressBps).toBe(1_500 * 8);
    expect(l.connections).toBe(5);
    expect(l.inFlight).toBe(1);
    // worker 1 crashes and comes back with its counters at zero: no negative rate, nothing lost
    m.forget(1);
    m.report(1, { bytesTotal: 250, diskErrors: 1, connections: 1, inFlight: 0 });
    m.report(0, { bytesTotal: 1_250, diskErrors: 0, connections: 3, inFlight: 0 });
    now = 2_000;
    l = m.sample();
    expect(l.egressBps).toBe(500 * 8);
    expect(l.bytesServed).toBe(2_000);
    expect(l.connections).toBe(4);
    expect(l.recentDiskErrors).toBe(1);
    expect(l.cpu).toBeGreaterThanOrEqual(0);
    expect(l.cpu).toBeLessThanOrEqual(1);
  });

  it('forgets disk errors older than a minute of samples', () => {
    let now = 0;
    const m = new LoadMeter(() => now);
    m.report(0, { bytesTotal: 0, diskErrors: 2, connections: 0, inFlight: 0 });
    now += 1000;
    expect(m.sample().recentDiskErrors).toBe(0); // counted before the first sample
    m.report(0, { bytesTotal: 0, diskErrors: 3, connections: 0, inFlight: 0 });
    for (let i = 0; i < 30; i++) {
      now += 1000;
      m.sample();
    }
    expect(m.load.recentDiskErrors).toBe(1);
    for (let i = 0; i < 61; i++) {
      now += 1000;
      m.sample();
    }
    expect(m.load.recentDiskErrors).toBe(0);
  });

  it('measures the box\'s CPU or, with the process scope, its own share of all cores', () => {
    let now = 0;
    let busy = 0, total = 0;
    const m = new LoadMeter(() => now, () => ({ busy, total }));
    busy += 250;
    total += 1000;
    now = 1000;
    expect(m.sample().cpu).toBe(0.25);
    // a reader that goes nowhere keeps the last figure
    now = 2000;
    expect(m.sample().cpu).toBe(0.25);
    // the process scope reads this process's CPU time against wall time × cores
    const own = new LoadMeter(() => now, 'process');
    now = 3000;
    const cpu = own.sample().cpu;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
  });
});
