import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../protocol/index.ts';
import type { ApplianceReport, RouteAttrs } from '../../protocol/index.ts';
import { Fleet } from '../src/steering/fleet.ts';
import { steer } from '../src/steering/steer.ts';
import type { Site } from '../src/store/repository.ts';

const NOW = 1_000_000;
const FILES = ['t1.v1', 't1.a1'];
const site = (siteId: string, kind: Site['kind']): Site => ({ siteId, kind, region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });
const route = (prefix: string, o: Partial<RouteAttrs> = {}): RouteAttrs => ({ prefix, asPathLength: 1, ...o });

type Mod = Partial<Record<'a1' | 'a2' | 'a3' | 'ix1', Partial<ApplianceReport> & { files?: string[]; at?: number; egress?: number; opDrain?: boolean }>>;

function world(mod: Mod = {}) {
  const fleet = new Fleet({ staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 });
  const apps: Array<[string, Site, RouteAttrs[]]> = [
    ['a1', site('s-a', 'embedded'), [route('10.0.0.0/8', { asPathLength: 2 }), route('10.1.0.0/16'), route('2001:db8::/32')]],
    ['a2', site('s-a', 'embedded'), [route('10.1.0.0/16', { localPref: 200 })]],
    ['a3', site('s-b', 'embedded'), [route('10.1.2.0/24'), route('2001:db8:1::/48')]],
    ['ix1', site('ix-eu', 'ix'), []],
  ];
  for (const [id, s, routes] of apps) {
    const m = mod[id as keyof Mod] ?? {};
    const { files, at, egress, opDrain, ...rest } = m;
    const a = fleet.add(id, s, id, `http://${id}.test`, opDrain ?? false);
    fleet.applyReport(a, {
      seq: 1, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok', reasons: [] }, draining: false,
      load: { egressBps: egress ?? 1e9, capacityBps: 10e9, connections: 1, cpu: 0.1 }, tiers: [], bgp: [],
      inventory: { kind: 'full', hash: 'h', files: files ?? FILES }, prefixes: { hash: 'p', routes }, ...rest,
    }, at ?? NOW);
  }
  return fleet;
}

function ask(fleet: Fleet, ip: string, now = NOW) {
  const d = steer(fleet, { address: parseAddress(ip)!, titleId: 't1', fileIds: FILES, region: 'eu', now }, { topK: 3, fallbackK: 1, originUrl: 'http://origin' });
  return { order: d.targets.map((t) => t.applianceId ?? 'origin'), miss: d.miss };
}

describe('steering table', () => {
  const cases: Array<[string, Mod, string, string[], string | undefined]> = [
    ['v4 longest match first, then local pref', {}, '10.1.2.3', ['a3', 'a2', 'a1', 'ix1', 'origin'], undefined],
    ['v4 /16 overlap: local pref 200 beats 100', {}, '10.1.9.9', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['v4 only the covering /8', {}, '10.9.9.9', ['a1', 'ix1', 'origin'], undefined],
    ['v6 /48 inside /32', {}, '2001:db8:1::5', ['a3', 'a1', 'ix1', 'origin'], undefined],
    ['v6 only the /32', {}, '2001:db8:2::1', ['a1', 'ix1', 'origin'], undefined],
    ['v4-mapped v6 client steers as v4', {}, '::ffff:10.1.2.3', ['a3', 'a2', 'a1', 'ix1', 'origin'], undefined],
    ['stale appliance skipped', { a3: { at: NOW - 31_000 } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['overloaded appliance skipped', { a3: { egress: 9.5e9 } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['failing appliance skipped', { a3: { health: { status: 'failing', reasons: ['disk'] } } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['self-draining appliance skipped', { a3: { draining: true } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['operator drain skipped', { a3: { opDrain: true } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['missing content → next appliance', { a3: { files: ['t1.v1'] } }, '10.1.2.3', ['a2', 'a1', 'ix1', 'origin'], undefined],
    ['no local box holds it → IX tier (content miss)', { a1: { files: [] }, a2: { files: [] }, a3: { files: [] } }, '10.1.2.3', ['ix1', 'origin'], 'content'],
    ['local boxes hold it but are down → IX tier (health miss)', { a1: { at: 0 }, a2: { at: 0 }, a3: { health: { status: 'failing', reasons: [] } } }, '10.1.2.3', ['ix1', 'origin'], 'health'],
    ['everything down → origin', { a1: { at: 0 }, a2: { at: 0 }, a3: { at: 0 }, ix1: { at: 0 } }, '10.1.2.3', ['origin'], 'health'],
    ['IX lacks content too → origin', { a1: { files: [] }, a2: { files: [] }, a3: { files: [] }, ix1: { files: [] } }, '2001:db8:1::1', ['origin'], 'content'],
    ['no prefix covers the client → IX, no-route miss', {}, '192.0.2.1', ['ix1', 'origin'], 'no-route'],
    ['v6 client with no route', {}, '2001:db9::1', ['ix1', 'origin'], 'no-route'],
  ];
  it.each(cases)('%s', (_name, mod, ip, order, miss) => {
    expect(ask(world(mod), ip)).toEqual({ order, miss });
  });

  it('stale is judged by the injected clock at decision time', () => {
    const fleet = world();
    expect(ask(fleet, '10.1.2.3', NOW + 30_000).order[0]).toBe('a3');
    expect(ask(fleet, '10.1.2.3', NOW + 30_001).order).toEqual(['origin']);
  });

  it('a site turned into an IX site moves its appliances to the fallback tier', () => {
    const fleet = world({ a1: { files: [] }, a2: { files: [] } });
    fleet.updateSite({ ...site('s-b', 'ix'), region: 'eu' });
    expect(ask(fleet, '192.0.2.1').order).toEqual(['ix1', 'origin']);
    expect(ask(fleet, '10.1.2.3').order).toEqual(['a3', 'ix1', 'origin']);
    fleet.updateSite({ ...site('ix-eu', 'ix'), region: 'us' });
    expect(ask(fleet, '192.0.2.1').order).toEqual(['a3', 'origin']);
  });

  it('a withdrawn prefix stops steering to that appliance', () => {
    const fleet = world();
    const a3 = fleet.get('a3')!;
    fleet.applyReport(a3, {
      seq: 2, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok', reasons: [] }, draining: false,
      load: { egressBps: 1e9, capacityBps: 10e9, connections: 1, cpu: 0.1 }, tiers: [], bgp: [], prefixes: { hash: 'p2', routes: [] },
    }, NOW);
    expect(ask(fleet, '10.1.2.3').order).toEqual(['a2', 'a1', 'ix1', 'origin']);
  });
});

describe('ranking among equals', () => {
  function pair(loadA: number, loadB: number) {
    const fleet = new Fleet({ staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 });
    for (const [id, load] of [['x', loadA], ['y', loadB]] as const) {
      const a = fleet.add(id, site('s', 'embedded'), id, `http://${id}`);
      fleet.applyReport(a, {
        seq: 1, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok', reasons: [] }, draining: false,
        load: { egressBps: load * 10e9, capacityBps: 10e9, connections: 1, cpu: 0 }, tiers: [], bgp: [],
        inventory: { kind: 'full', hash: 'h', files: ['t1.v1', ...Array.from({ length: 40 }, (_, i) => `m${i}.v1`)] },
        prefixes: { hash: 'p', routes: [route('10.0.0.0/8')] },
      }, NOW);
    }
    return fleet;
  }
  const first = (fleet: Fleet, titleId: string) =>
    steer(fleet, { address: parseAddress('10.0.0.1')!, titleId, fileIds: [`${titleId}.v1`], region: 'eu', now: NOW }, { topK: 3, fallbackK: 0, originUrl: 'o' }).targets[0].applianceId;

  it('less loaded appliance first when loads differ by a 10% step', () => {
    expect(first(pair(0.6, 0.2), 't1')).toBe('y');
    expect(first(pair(0.2, 0.6), 't1')).toBe('x');
  });

  it('equal load: the title hash picks, stably per title, and spreads titles over the site', () => {
    const fleet = pair(0.3, 0.32);
    const titles = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const picks = titles.map((t) => first(fleet, t));
    expect(titles.map((t) => first(fleet, t))).toEqual(picks);
    expect(new Set(picks)).toEqual(new Set(['x', 'y']));
  });
});

describe('file holder sets', () => {
  it('track full and delta inventories across many appliances (sets grow as the fleet does)', () => {
    const fleet = new Fleet({ staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 });
    const base = {
      bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok' as const, reasons: [] }, draining: false,
      load: { egressBps: 1e9, capacityBps: 10e9, connections: 1, cpu: 0 }, tiers: [], bgp: [],
    };
    const apps = Array.from({ length: 300 }, (_, i) => {
      const a = fleet.add(`x${i}`, site('s', 'embedded'), `x${i}`, `http://x${i}`);
      fleet.applyReport(a, { ...base, seq: 1, inventory: { kind: 'full', hash: 'h1', files: i % 7 === 0 ? FILES : ['t1.v1'] }, prefixes: { hash: 'p', routes: [route('10.0.0.0/8')] } }, NOW);
      return a;
    });
    const holders = () => steer(fleet, { address: parseAddress('10.0.0.1')!, titleId: 't1', fileIds: FILES, region: 'eu', now: NOW }, { topK: 1000, fallbackK: 0, originUrl: 'o' })
      .targets.filter((t) => t.applianceId).map((t) => Number(t.applianceId!.slice(1))).sort((a, b) => a - b);
    expect(holders()).toEqual(apps.map((_, i) => i).filter((i) => i % 7 === 0));
    fleet.applyReport(apps[0], { ...base, seq: 2, inventory: { kind: 'delta', baseHash: 'h1', hash: 'h2', added: [], removed: ['t1.a1'] } }, NOW);
    fleet.applyReport(apps[299], { ...base, seq: 2, inventory: { kind: 'delta', baseHash: 'h1', hash: 'h2', added: ['t1.a1'], removed: [] } }, NOW);
    fleet.applyReport(apps[7], { ...base, seq: 2, inventory: { kind: 'full', hash: 'h3', files: [] } }, NOW);
    expect(holders()).toEqual([...apps.map((_, i) => i).filter((i) => i % 7 === 0 && i !== 0 && i !== 7), 299]);
  });
});
