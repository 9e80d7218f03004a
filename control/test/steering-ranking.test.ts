// Ranking rules added after the first steering table: degraded boxes after healthy ones, BGP
// ORIGIN between AS-path length and MED, and measured throughput per (client prefix, appliance)
// with hysteresis and a minimum dwell, driven by an injected clock.

import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../protocol/index.ts';
import type { ApplianceReport, RouteAttrs } from '../../protocol/index.ts';
import { Fleet } from '../src/steering/fleet.ts';
import { steer } from '../src/steering/steer.ts';
import { MARGIN, ThroughputBook, TOP_CLASS } from '../src/steering/throughput.ts';
import type { Site } from '../src/store/repository.ts';

const NOW = 1_000_000;
const FILES = ['t1.v1', 't1.a1'];
const site = (siteId: string, kind: Site['kind'] = 'embedded'): Site => ({ siteId, kind, region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });

interface Box { id: string; routes: RouteAttrs[]; status?: ApplianceReport['health']['status']; kind?: Site['kind']; load?: number }

function fleetOf(boxes: Box[]): Fleet {
  const fleet = new Fleet({ staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 });
  for (const b of boxes) {
    const a = fleet.add(b.id, site(b.kind === 'ix' ? 'ix-eu' : 's', b.kind), b.id, `http://${b.id}.test`);
    fleet.applyReport(a, {
      seq: 1, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: b.status ?? 'ok', reasons: [] }, draining: false,
      load: { egressBps: (b.load ?? 0.1) * 10e9, capacityBps: 10e9, connections: 1, cpu: 0 }, tiers: [], bgp: [],
      inventory: { kind: 'full', hash: 'h', files: FILES }, prefixes: { hash: 'p', routes: b.routes },
    }, NOW);
  }
  return fleet;
}

const order = (fleet: Fleet, ip = '10.1.2.3', throughput?: ThroughputBook, now = NOW) => {
  const d = steer(fleet, { address: parseAddress(ip)!, titleId: 't1', fileIds: FILES, region: 'eu', now }, { topK: 4, fallbackK: 1, originUrl: 'http://origin', throughput });
  return { ids: d.targets.map((t) => t.applianceId ?? 'origin'), degraded: d.degraded };
};
const r = (prefix: string, o: Partial<RouteAttrs> = {}): RouteAttrs => ({ prefix, asPathLength: 1, ...o });

describe('degraded boxes', () => {
  it('rank after healthy ones at the same prefix length, and the decision says how many it names', () => {
    const fleet = fleetOf([
      { id: 'd', routes: [r('10.1.0.0/16', { localPref: 300 })], status: 'degraded' },
      { id: 'h', routes: [r('10.1.0.0/16')], load: 0.8 },
      { id: 'x', routes: [r('10.0.0.0/8')] },
    ]);
    // d has the better local preference and the lower load, yet comes after h: health comes first at one length
    expect(order(fleet)).toEqual({ ids: ['h', 'd', 'x', 'origin'], degraded: 1 });
  });

  it('a degraded box at a longer prefix still beats a healthy one at a shorter prefix', () => {
    const fleet = fleetOf([{ id: 'd', routes: [r('10.1.2.0/24')], status: 'degraded' }, { id: 'h', routes: [r('10.1.0.0/16')] }]);
    expect(order(fleet).ids).toEqual(['d', 'h', 'origin']);
  });

  it('the IX tier ranks degraded boxes after healthy ones too; no degraded box, no count', () => {
    const fleet = fleetOf([
      { id: 'ixd', routes: [], kind: 'ix', status: 'degraded', load: 0 },
      { id: 'ixh', routes: [], kind: 'ix', load: 0.5 },
    ]);
    expect(order(fleet, '192.0.2.1')).toEqual({ ids: ['ixh', 'origin'], degraded: undefined });
  });
});

describe('BGP ORIGIN', () => {
  const cases: Array<[string, RouteAttrs, RouteAttrs, string]> = [
    ['IGP beats EGP', r('10.1.0.0/16', { origin: 'egp' }), r('10.1.0.0/16', { origin: 'igp' }), 'b'],
    ['EGP beats INCOMPLETE', r('10.1.0.0/16', { origin: 'incomplete' }), r('10.1.0.0/16', { origin: 'egp' }), 'b'],
    ['no ORIGIN counts as IGP', r('10.1.0.0/16', { origin: 'egp' }), r('10.1.0.0/16'), 'b'],
    ['ORIGIN comes before MED', r('10.1.0.0/16', { origin: 'incomplete', med: 0 }), r('10.1.0.0/16', { origin: 'igp', med: 500 }), 'b'],
    ['AS-path length comes before ORIGIN', r('10.1.0.0/16', { origin: 'incomplete', asPathLength: 1 }), r('10.1.0.0/16', { origin: 'igp', asPathLength: 2 }), 'a'],
    ['equal ORIGIN: MED decides', r('10.1.0.0/16', { origin: 'egp', med: 5 }), r('10.1.0.0/16', { origin: 'egp', med: 50 }), 'a'],
  ];
  it.each(cases)('%s', (_name, ra, rb, first) => {
    expect(order(fleetOf([{ id: 'a', routes: [ra] }, { id: 'b', routes: [rb] }])).ids[0]).toBe(first);
  });

  it('one appliance with two peers is steered on its best route, ORIGIN included', () => {
    // a hears 10.1/16 from two peers: INCOMPLETE from p1, IGP from p2; b only EGP. a's best (IGP) wins.
    const fleet = fleetOf([
      { id: 'a', routes: [r('10.1.0.0/16', { origin: 'incomplete', peer: 'p1' }), r('10.1.0.0/16', { origin: 'igp', peer: 'p2' })] },
      { id: 'b', routes: [r('10.1.0.0/16', { origin: 'egp' })] },
    ]);
    expect(order(fleet).ids.slice(0, 2)).toEqual(['a', 'b']);
  });

  it('an ORIGIN change in a later report re-ranks', () => {
    const fleet = fleetOf([{ id: 'a', routes: [r('10.1.0.0/16')] }, { id: 'b', routes: [r('10.1.0.0/16', { origin: 'egp' })] }]);
    expect(order(fleet).ids[0]).toBe('a');
    fleet.applyReport(fleet.get('a')!, {
      seq: 2, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok', reasons: [] }, draining: false,
      load: { egressBps: 1e9, capacityBps: 10e9, connections: 1, cpu: 0 }, tiers: [], bgp: [],
      prefixes: { kind: 'delta', baseHash: 'p', hash: 'p2', announced: [r('10.1.0.0/16', { origin: 'incomplete' })], withdrawn: [] },
    }, NOW);
    expect(order(fleet).ids[0]).toBe('b');
  });
});

describe('measured throughput', () => {
  const policy = { halfLifeMs: 30 * 60_000, dwellMs: 5 * 60_000, goodKbps: 3_000, minEvidenceMs: 60_000, v4Length: 24, v6Length: 48 };

  it('a box that keeps starving a prefix drops below a sibling that serves it well, for that prefix only', () => {
    const fleet = fleetOf([{ id: 'a', routes: [r('10.1.0.0/16')] }, { id: 'b', routes: [r('10.1.0.0/16')] }]);
    const book = new ThroughputBook(policy);
    const first = order(fleet, '10.1.2.3', book).ids[0];
    const other = first === 'a' ? 'b' : 'a';
    const key = book.keyOf(parseAddress('10.1.2.99')!);
    // 10-second heartbeats: the first box delivers 800 kb/s, its sibling 6 Mb/s
    for (let t = NOW - 120_000; t < NOW; t += 10_000) {
      book.record(key, fleet.get(first)!.slot, 800, 10_000, t);
      book.record(key, fleet.get(other)!.slot, 6_000, 10_000, t);
    }
    expect(order(fleet, '10.1.2.3', book).ids.slice(0, 2)).toEqual([other, first]);
    // another /24 of the same route has no evidence: the old order stands
    expect(order(fleet, '10.1.3.3', book).ids[0]).toBe(first);
  });

  it('too little evidence judges nothing; health and prefix length still come first', () => {
    const fleet = fleetOf([{ id: 'a', routes: [r('10.1.2.0/24')] }, { id: 'b', routes: [r('10.1.0.0/16')] }]);
    const book = new ThroughputBook(policy);
    const key = book.keyOf(parseAddress('10.1.2.3')!);
    book.record(key, fleet.get('a')!.slot, 100, 50_000, NOW);
    expect(book.estimate(key, fleet.get('a')!.slot, NOW)?.class).toBe(TOP_CLASS);
    book.record(key, fleet.get('a')!.slot, 100, 20_000, NOW + 20_000);
    expect(book.estimate(key, fleet.get('a')!.slot, NOW + 20_000)?.class).toBe(0);
    expect(order(fleet, '10.1.2.3', book).ids[0]).toBe('a'); // the /24 still beats the /16
  });

  it('IPv6 viewers are keyed by their /48', () => {
    const book = new ThroughputBook(policy);
    const k = (ip: string) => book.keyOf(parseAddress(ip)!);
    expect(k('2001:db8:1:2::1')).toBe(k('2001:db8:1:ffff::9'));
    expect(k('2001:db8:1::1')).not.toBe(k('2001:db8:2::1'));
    expect(k('10.0.0.1')).not.toBe(k('::a00:1'));
  });

  it('does not flap: an estimate hovering around a boundary changes class once, and changes come at most once per dwell', () => {
    const book = new ThroughputBook(policy);
    let t = NOW;
    const changes: Array<[number, string]> = [];
    // alternate samples just above and below the 3 Mb/s boundary for an hour
    for (let i = 0; i < 360; i++, t += 10_000) {
      const c = book.record(1, 0, i % 2 ? 3_300 : 2_700, 10_000, t);
      if (c && c !== 'held') changes.push([t, c]);
    }
    expect(changes.length).toBeLessThanOrEqual(1);
    // a box swinging hard between starving and good every 30 s for an hour, with an estimate that
    // follows at once (10 s half-life): each change waits out the dwell
    const quick = new ThroughputBook({ ...policy, halfLifeMs: 10_000, minEvidenceMs: 10_000 });
    changes.length = 0;
    for (let i = 0; i < 120; i++) {
      for (let j = 0; j < 3; j++, t += 10_000) {
        const c = quick.record(2, 0, i % 2 ? 200 : 9_000, 10_000, t);
        if (c && c !== 'held') changes.push([t, c]);
      }
    }
    expect(changes.length).toBeGreaterThan(6);
    for (let i = 1; i < changes.length; i++) expect(changes[i][0] - changes[i - 1][0]).toBeGreaterThanOrEqual(policy.dwellMs);
    expect(changes.length).toBeLessThanOrEqual(3_600_000 / policy.dwellMs + 1);
    expect(quick.stats.held).toBeGreaterThan(0);
  });

  it('hysteresis: a class moves only once the estimate is past the boundary by the margin', () => {
    const book = new ThroughputBook({ ...policy, dwellMs: 0, halfLifeMs: 1 });
    // half-life 1 ms: each sample is the whole estimate
    book.record(1, 0, 1_000, 60_000, 0);
    expect(book.estimate(1, 0, 0)?.class).toBe(1);
    book.record(1, 0, 1_500 * (1 + MARGIN) - 1, 60_000, 1_000);
    expect(book.estimate(1, 0, 1_000)?.class).toBe(1);
    book.record(1, 0, 1_500 * (1 + MARGIN) + 1, 60_000, 2_000);
    expect(book.estimate(1, 0, 2_000)?.class).toBe(2);
    book.record(1, 0, 1_500 * (1 - MARGIN) + 1, 60_000, 3_000);
    expect(book.estimate(1, 0, 3_000)?.class).toBe(2);
    book.record(1, 0, 1_500 * (1 - MARGIN) - 1, 60_000, 4_000);
    expect(book.estimate(1, 0, 4_000)?.class).toBe(1);
  });

  it('evidence fades: a swept cell goes back to unjudged once its dwell allows, then is forgotten', () => {
    const book = new ThroughputBook(policy);
    book.record(7, 3, 500, 120_000, NOW);
    expect(book.estimate(7, 3, NOW)?.class).toBe(0);
    expect(book.sweep(NOW + 60_000)).toBe(0);
    // four half-lives later 120 s of evidence is 7.5 s, under a quarter of 60 s
    expect(book.sweep(NOW + 4 * policy.halfLifeMs)).toBe(1);
    expect(book.size).toBe(0);
    expect(ThroughputBook.classIn(book.cellsOf(7), 3)).toBe(TOP_CLASS);
  });
});
