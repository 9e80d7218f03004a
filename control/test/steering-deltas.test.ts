// Prefix deltas at control: random full sets and deltas (announce, withdraw, new attributes, several
// peers per prefix) against a reference kept as plain maps. After every report control's routes
// equal the reference set, its hash equals the set's hash, and steering answers as a naive
// reference steer over the reference sets does. Bad bases and diverged results ask for the full
// set; every change reaches the route log at once, and the log replayed into another fleet (another
// control instance, or this one restarted) rebuilds the set exactly, compactly at 300k routes.

import { describe, expect, it } from 'vitest';
import { formatPrefix, parseAddress, parsePrefix, prefixContains, prefixMask, RouteSetHash, routeSetHash } from '../../protocol/index.ts';
import type { Address, ApplianceReport, Family, PrefixReport, RouteAttrs } from '../../protocol/index.ts';
import { affinity, fnv1a, type ApplianceState } from '../src/steering/appliance-state.ts';
import { Fleet } from '../src/steering/fleet.ts';
import type { Changed } from '../src/steering/fleet.ts';
import { COMPACT_MAX_ENTRIES, decodeEntry, DEFLATE_MIN_BYTES, encodeDeltas, encodeFull, RouteLogWriter, type RouteSetBody } from '../src/steering/route-log.ts';
import { routeKey } from '../src/steering/prefix-sets.ts';
import { steer } from '../src/steering/steer.ts';
import type { Site } from '../src/store/repository.ts';
import { seededRandom as rng } from '../../protocol/index.ts';


const NOW = 1_000_000;
const POLICY = { staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 };
const OPTS = { topK: 3, fallbackK: 2, originUrl: 'http://origin' };
const site = (siteId: string, kind: Site['kind']): Site => ({ siteId, kind, region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });

function report(seq: number, prefixes: PrefixReport | undefined, o: Partial<ApplianceReport> = {}): ApplianceReport {
  return {
    seq, bootId: 'b', sentAt: 0, softwareVersion: '1', health: { status: 'ok', reasons: [] }, draining: false,
    load: { egressBps: 1e9, capacityBps: 10e9, connections: 1, cpu: 0.1 }, tiers: [], bgp: [], prefixes, ...o,
  };
}

/** A pool of nesting prefixes, both families, so lookups see several lengths. */
function prefixPool(r: () => number): string[] {
  const out = new Set<string>();
  for (const [family, width, base] of [[4, 32, 10n << 24n], [6, 128, 0x2001_0db8n << 96n]] as const) {
    for (let i = 0; i < 60; i++) {
      const length = (family === 4 ? 8 : 32) + Math.floor(r() * (family === 4 ? 17 : 33));
      const noise = BigInt(Math.floor(r() * 2 ** 32)) << BigInt(width - 40);
      out.add(formatPrefix({ family: family as Family, length, bits: (base | noise) & prefixMask(family as Family, length) }));
    }
  }
  return [...out];
}

function randomRoute(r: () => number, pool: string[]): RouteAttrs {
  const route: RouteAttrs = { prefix: pool[Math.floor(r() * pool.length)], asPathLength: 1 + Math.floor(r() * 3), asPath: [65001] };
  if (r() < 0.5) route.peer = r() < 0.5 ? '192.0.2.1' : '2001:db8::1';
  if (r() < 0.4) route.localPref = r() < 0.5 ? 200 : 100;
  if (r() < 0.4) route.med = Math.floor(r() * 3);
  if (r() < 0.2) route.communities = ['65001:100'];
  return route;
}

/** Naive steering from the spec, over plain route maps: the reference for steer(). */
function referenceSteer(fleet: Fleet, sets: Map<string, Map<string, RouteAttrs>>, address: Address, fileIds: string[], titleId: string) {
  const th = fnv1a(titleId);
  const healthy = (a: ApplianceState) => fleet.status(a, NOW) === 'healthy';
  const holds = (a: ApplianceState) => fileIds.every((f) => a.inventory.has(f));
  type C = { a: ApplianceState; len: number; emb: number; lp: number; asp: number; med: number; load: number; aff: number };
  const best = new Map<ApplianceState, C>();
  for (const [id, set] of sets) {
    const a = fleet.get(id)!;
    for (const r of set.values()) {
      const p = parsePrefix(r.prefix)!;
      if (!prefixContains(p, address)) continue;
      const c: C = { a, len: p.length, emb: a.site.kind === 'embedded' ? 1 : 0, lp: r.localPref ?? 100, asp: r.asPathLength, med: r.med ?? 0, load: Math.floor(a.utilisation * 10), aff: affinity(th, a.idHash) };
      const b = best.get(a);
      if (!b || cmp(c, b) < 0) best.set(a, c);
    }
  }
  const local = [...best.values()];
  const cands = local.filter((c) => healthy(c.a) && holds(c.a)).sort(cmp);
  const targets = cands.slice(0, OPTS.topK).map((c) => c.a.id);
  let miss: string | undefined;
  if (targets.length === 0) miss = local.length === 0 ? 'no-route' : local.some((c) => holds(c.a)) ? 'health' : 'content';
  const fb = fleet.ixInRegion('eu').filter((a) => !best.has(a) && healthy(a) && holds(a))
    .map((a) => ({ a, len: 0, emb: 0, lp: 0, asp: 0, med: 0, load: Math.floor(a.utilisation * 10), aff: affinity(th, a.idHash) })).sort(cmp);
  return { targets: [...targets, ...fb.slice(0, OPTS.fallbackK).map((c) => c.a.id), 'origin'], miss };
  function cmp(x: C, y: C): number {
    return y.len - x.len || y.emb - x.emb || y.lp - x.lp || x.asp - y.asp || x.med - y.med || x.load - y.load || y.aff - x.aff;
  }
}

describe('prefix deltas at control', () => {
  it('random full sets and deltas keep routes, hash and steering equal to the reference', () => {
    const r = rng(17);
    const pool = prefixPool(r);
    const fleet = new Fleet(POLICY);
    const ids = Array.from({ length: 16 }, (_, i) => `a${i}`);
    const sets = new Map<string, Map<string, RouteAttrs>>();
    const seq = new Map<string, number>();
    ids.forEach((id, i) => {
      const a = fleet.add(id, site(i < 12 ? `s${i % 4}` : 'ix', i < 12 ? 'embedded' : 'ix'), id, `http://${id}`);
      const set = new Map<string, RouteAttrs>();
      for (let k = 0; k < 40; k++) { const route = randomRoute(r, pool); set.set(routeKey(route), route); }
      if (i >= 14) set.clear(); // IX boxes without routes
      sets.set(id, set);
      seq.set(id, 1);
      const out = fleet.applyReport(a, report(1, { hash: routeSetHash(set.values()), routes: [...set.values()] }, {
        inventory: { kind: 'full', hash: 'h', files: r() < 0.8 ? ['t.v1', 't.a1'] : ['t.v1'] },
        health: { status: r() < 0.1 ? 'failing' : 'ok', reasons: [] },
        load: { egressBps: r() * 1e10, capacityBps: 1e10, connections: 1, cpu: 0 },
      }), NOW);
      expect(out.needPrefixes).toBeUndefined();
    });
    expect(fleet.stats.prefixHashMismatches).toBe(0);

    const compareAll = () => {
      for (const id of ids) {
        const a = fleet.get(id)!;
        const set = sets.get(id)!;
        expect(new Map(a.routes.map((x) => [routeKey(x), x]))).toEqual(set);
        expect(a.prefixHash).toBe(routeSetHash(set.values()));
        expect(a.routeSum.toString()).toBe(a.prefixHash);
      }
      for (let q = 0; q < 60; q++) {
        const p = parsePrefix(pool[Math.floor(r() * pool.length)])!;
        const width = p.family === 4 ? 32 : 128;
        const value = p.bits | (BigInt(Math.floor(r() * 2 ** 32)) & ((1n << BigInt(width - p.length)) - 1n));
        const address: Address = { family: p.family, value };
        const d = steer(fleet, { address, titleId: 't', fileIds: ['t.v1', 't.a1'], region: 'eu', now: NOW }, OPTS);
        expect({ targets: d.targets.map((t) => t.applianceId ?? 'origin'), miss: d.miss }).toEqual(referenceSteer(fleet, sets, address, ['t.v1', 't.a1'], 't'));
      }
    };
    compareAll();

    for (let round = 0; round < 300; round++) {
      const id = ids[Math.floor(r() * 14)];
      const a = fleet.get(id)!;
      const set = sets.get(id)!;
      const baseHash = routeSetHash(set.values());
      // Changed keys, then each key's final state: announced if present, else withdrawn.
      const touched = new Map<string, { prefix: string; peer?: string }>();
      const changes = 1 + Math.floor(r() * 6);
      for (let c = 0; c < changes; c++) {
        const u = r();
        if (u < 0.4 && set.size > 0) {
          const victim = [...set.values()][Math.floor(r() * set.size)];
          set.delete(routeKey(victim));
          touched.set(routeKey(victim), victim.peer === undefined ? { prefix: victim.prefix } : { prefix: victim.prefix, peer: victim.peer });
        } else if (u < 0.6 && set.size > 0) {
          // same route, new attributes
          const old = [...set.values()][Math.floor(r() * set.size)];
          const route = { ...old, asPathLength: 1 + Math.floor(r() * 4), localPref: r() < 0.5 ? 300 : 50 };
          set.set(routeKey(route), route);
          touched.set(routeKey(route), route);
        } else {
          const route = randomRoute(r, pool);
          set.set(routeKey(route), route);
          touched.set(routeKey(route), route);
        }
      }
      const announced = [...touched.keys()].filter((k) => set.has(k)).map((k) => set.get(k)!);
      const withdrawn = [...touched.entries()].filter(([k]) => !set.has(k)).map(([, w]) => (w.peer === undefined ? { prefix: w.prefix } : { prefix: w.prefix, peer: w.peer }));
      const s = seq.get(id)! + 1;
      seq.set(id, s);
      // Now and then the full set instead (a periodic sync), once with a route listed twice.
      const full = r() < 0.1;
      const listed = [...set.values()];
      if (full && round % 3 === 0 && listed.length > 0) listed.unshift({ ...listed[0], med: 99 });
      const out = fleet.applyReport(a, report(s, full
        ? { hash: routeSetHash(set.values()), routes: listed }
        : { kind: 'delta', baseHash, hash: routeSetHash(set.values()), announced, withdrawn }), NOW);
      expect(out.needPrefixes).toBeUndefined();
      if (round % 30 === 0) compareAll();
    }
    compareAll();
    expect(fleet.stats.prefixDeltasApplied).toBeGreaterThan(240);
    expect(fleet.stats.prefixHashMismatches).toBe(0);

    // The same final sets as full reports on a fresh fleet steer identically.
    const fresh = new Fleet(POLICY);
    for (const id of ids) {
      const a = fleet.get(id)!;
      const b = fresh.add(id, a.site, id, a.publicUrl);
      fresh.applyReport(b, report(1, { hash: a.prefixHash!, routes: [...sets.get(id)!.values()] }, {
        inventory: { kind: 'full', hash: 'h', files: [...a.inventory] }, health: a.health, load: a.load,
      }), NOW);
    }
    for (let q = 0; q < 200; q++) {
      const p = parsePrefix(pool[Math.floor(r() * pool.length)])!;
      const req = { address: { family: p.family, value: p.bits } as Address, titleId: `t${q % 7}`, fileIds: ['t.v1'], region: 'eu', now: NOW };
      expect(steer(fresh, req, OPTS)).toEqual(steer(fleet, req, OPTS));
    }
    expect(fleet.routes.routeCount).toBe(fresh.routes.routeCount);
    expect(fleet.routes.prefixCount).toBe(fresh.routes.prefixCount);
  });

  it('a re-sent delta is applied once; a result that hashes differently asks for the full set', () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const r1: RouteAttrs = { prefix: '10.0.0.0/8', asPathLength: 1 };
    const r2: RouteAttrs = { prefix: '10.1.0.0/16', asPathLength: 1 };
    const r3: RouteAttrs = { prefix: '10.3.0.0/16', asPathLength: 1 };
    const h1 = routeSetHash([r1]);
    expect(fleet.applyReport(a, report(1, { hash: h1, routes: [r1] }), NOW).needPrefixes).toBeUndefined();
    const d2 = { kind: 'delta' as const, baseHash: h1, hash: routeSetHash([r1, r2]), announced: [r2], withdrawn: [] };
    expect(fleet.applyReport(a, report(2, d2), NOW).needPrefixes).toBeUndefined();
    // Control's answer was lost: the appliance sends the changes again with the next ones, on its old base.
    const d3 = { kind: 'delta' as const, baseHash: h1, hash: routeSetHash([r1, r2, r3]), announced: [r2, r3], withdrawn: [] };
    expect(fleet.applyReport(a, report(3, d3), NOW).needPrefixes).toBeUndefined();
    expect(a.routes).toEqual([r1, r2, r3]);
    expect(a.prefixHash).toBe(d3.hash);
    // Right base, but the appliance's set is not what the delta makes here (a change was lost).
    const lost: RouteAttrs = { prefix: '10.2.0.0/16', asPathLength: 1 };
    const diverged = fleet.applyReport(a, report(4, { kind: 'delta', baseHash: d3.hash, hash: routeSetHash([r1, r3, lost]), announced: [], withdrawn: [{ prefix: r2.prefix }] }), NOW);
    expect(diverged.needPrefixes).toBe(true);
    expect(a.prefixHash).toBeUndefined();
    expect(fleet.stats.prefixHashMismatches).toBe(1);
    // Steering keeps using what control has meanwhile (the withdrawal applied).
    const first = (ip: string) => steer(fleet, { address: parseAddress(ip)!, titleId: 't', fileIds: [], region: 'eu', now: NOW }, OPTS).targets[0].applianceId;
    expect(first('10.3.2.3')).toBe('a');
    expect(a.routes.map((r) => r.prefix).sort()).toEqual(['10.0.0.0/8', '10.3.0.0/16']);
    // Until the full set comes, a hash-only report is answered with needPrefixes too.
    expect(fleet.applyReport(a, report(5, { hash: routeSetHash([r1, r3, lost]) }), NOW).needPrefixes).toBe(true);
    expect(fleet.applyReport(a, report(6, { hash: routeSetHash([r1, r3, lost]), routes: [r1, r3, lost] }), NOW).needPrefixes).toBeUndefined();
    expect(fleet.applyReport(a, report(7, { hash: routeSetHash([r1, r3, lost]) }), NOW).needPrefixes).toBeUndefined();
    // A full set whose claimed hash is wrong is kept (it arrived whole) and counted.
    fleet.applyReport(a, report(8, { hash: routeSetHash([r1]), routes: [r1, r2] }), NOW);
    expect(a.routes).toEqual([r1, r2]);
    expect(fleet.stats.prefixHashMismatches).toBe(2);
  });

  it('an opaque (pre route-set hash) delta must name the base control holds', () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const r1: RouteAttrs = { prefix: '10.0.0.0/8', asPathLength: 1 };
    fleet.applyReport(a, report(1, { hash: 'opaque-1', routes: [r1] }), NOW);
    const out = fleet.applyReport(a, report(2, { kind: 'delta', baseHash: 'opaque-0', hash: 'opaque-2', announced: [{ prefix: '10.1.0.0/16', asPathLength: 1 }], withdrawn: [] }), NOW);
    expect(out.needPrefixes).toBe(true);
    expect(a.routes).toEqual([r1]);
    expect(fleet.applyReport(a, report(3, { kind: 'delta', baseHash: 'opaque-1', hash: 'opaque-2', announced: [{ prefix: '10.1.0.0/16', asPathLength: 1 }], withdrawn: [] }), NOW).needPrefixes).toBeUndefined();
    expect(a.routes).toHaveLength(2);
  });

  it('a full set sent as attribute groups equals the same routes sent one by one', () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const attrs = { asPathLength: 2, asPath: [65001, 65002], med: 5, peer: '192.0.2.1' };
    const routes: RouteAttrs[] = ['10.0.0.0/8', '10.1.0.0/16', '2001:db8:1::/48'].map((prefix) => ({ prefix, ...attrs }));
    const other: RouteAttrs = { prefix: '10.2.0.0/16', asPathLength: 1 };
    const hash = routeSetHash([...routes, other]);
    const out = fleet.applyReport(a, report(1, { hash, routes: [other], groups: [{ attrs, prefixes: routes.map((r) => r.prefix) }] }), NOW);
    expect(out.needPrefixes).toBeUndefined();
    expect(fleet.stats.prefixHashMismatches).toBe(0);
    expect(new Set(a.routes)).toEqual(new Set([other, ...routes]));
    // and a delta on top checks out against it
    const next = routes.slice(1);
    expect(fleet.applyReport(a, report(2, { kind: 'delta', baseHash: hash, hash: routeSetHash([...next, other]), announced: [], withdrawn: [{ prefix: '10.0.0.0/8', peer: '192.0.2.1' }] }), NOW).needPrefixes).toBeUndefined();
  });

  it('a 300k-route set is one compact log entry, encoded with the event loop served between slices; replayed into another fleet it is the same set, and its hash holds', async () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const routes: RouteAttrs[] = Array.from({ length: 300_000 }, (_, i) => ({ prefix: `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, asPathLength: 1 + (i % 7), ...(i % 3 === 0 ? { med: 5 } : {}) }));
    const hash = routeSetHash(routes);
    fleet.applyReport(a, report(1, { hash, routes }), NOW);
    let finished = false;
    let servedWhileEncoding = false;
    const encoding = encodeFull(a)!;
    setImmediate(() => { servedWhileEncoding = !finished; });
    const entry = await encoding;
    finished = true;
    expect(servedWhileEncoding).toBe(true); // 1M routes take ~1.5 CPU-s: never in one go on control's loop
    console.log(`route log: a 300,000-route set is one full entry of ${(entry.body.length / 1e6).toFixed(2)} MB`);
    expect(entry.body.length).toBeLessThan(4e6);
    const other = new Fleet(POLICY);
    const b = other.add('a', a.site, 'a', a.publicUrl, false, { snapshot: fleet.stateSnapshot(a), inventory: null, routes: null });
    other.replayRoutes(b, decodeEntry(entry));
    expect(b.prefixHash).toBe(hash);
    expect(b.routeSum.toString()).toBe(hash);
    expect(other.stats.replayMismatches).toBe(0);
    expect(b.routes).toHaveLength(routes.length);
    const held = new Map(b.routes.map((r) => [r.prefix, r]));
    for (let i = 0; i < routes.length; i += 997) expect(held.get(routes[i].prefix)).toEqual(routes[i]);
    // the box's next report (hash only) is accepted without asking for the set again
    expect(other.applyReport(b, report(2, { hash }), NOW).needPrefixes).toBeUndefined();
  });

  it('a small set or a delta is logged as plain JSON (no zlib per entry), a large one deflated; an entry of unknown format is refused by name', async () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const routes: RouteAttrs[] = Array.from({ length: 400 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24`, asPathLength: 2 }));
    fleet.applyReport(a, report(1, { hash: routeSetHash(routes), routes }), NOW);
    const small = (await encodeFull(a))!;
    expect(small.body[0]).toBe(0);
    expect(JSON.parse(small.body.subarray(1).toString('utf8')).groups[0].prefixes).toHaveLength(400);
    const delta = await encodeDeltas([{ kind: 'delta', baseHash: '1', hash: '2', announced: [{ prefix: '11.0.0.0/8', asPathLength: 1 }], withdrawn: [] }]);
    expect(delta.body[0]).toBe(0);
    expect(decodeEntry(delta)).toMatchObject({ full: false, deltas: [{ announced: [{ prefix: '11.0.0.0/8' }] }] });
    // one group larger than an encoding slice (8,192 prefixes), and a second group after it
    const big: RouteAttrs[] = Array.from({ length: 70_000 }, (_, i) => ({ prefix: `${12 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, asPathLength: i < 69_000 ? 2 : 3 }));
    fleet.applyReport(a, report(2, { hash: routeSetHash(big), routes: big }), NOW);
    const large = (await encodeFull(a))!;
    expect(large.body[0]).toBe(1);
    expect(large.body.length).toBeLessThan(4 * DEFLATE_MIN_BYTES);
    const groups = (decodeEntry(large) as RouteSetBody).groups;
    expect(groups.map((g) => [g.attrs.asPathLength, g.prefixes.length])).toEqual([[2, 69_000], [3, 1_000]]);
    expect(new Set(groups.flatMap((g) => g.prefixes))).toEqual(new Set(big.map((r) => r.prefix)));
    expect(() => decodeEntry({ full: true, body: Buffer.of(7, 123, 125) })).toThrow(/unknown format 7/);
    expect(() => decodeEntry({ full: false, body: Buffer.alloc(0) })).toThrow(/unknown format \(empty\)/);
  });

  it('hashes from before route-set hashes (opaque strings) still work for full sets and hash-only reports', () => {
    const fleet = new Fleet(POLICY);
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    expect(fleet.applyReport(a, report(1, { hash: 'sha-1', routes: [{ prefix: '10.0.0.0/8', asPathLength: 1 }] }), NOW).needPrefixes).toBeUndefined();
    expect(fleet.applyReport(a, report(2, { hash: 'sha-1' }), NOW).needPrefixes).toBeUndefined();
    expect(fleet.applyReport(a, report(3, { hash: 'sha-2' }), NOW).needPrefixes).toBe(true);
    expect(fleet.stats.prefixHashMismatches).toBe(0);
  });

  it('every applied delta goes to the log as it comes, compacted into a full set once the deltas outweigh it; the log replays to the same set', async () => {
    const writer = new RouteLogWriter();
    const changes: Changed['routes'][] = [];
    const fleet = new Fleet(POLICY, (a, changed) => {
      changes.push(changed.routes);
      if (changed.routes === 'full') writer.full(a);
      else if (changed.routes) writer.delta(a, changed.routes);
    });
    const a = fleet.add('a', site('s', 'embedded'), 'a', 'http://a');
    const replica = new Fleet(POLICY);
    const b = replica.add('a', a.site, 'a', a.publicUrl);
    const ship = async () => { for (const e of (await writer.take(a)) ?? []) replica.replayRoutes(b, decodeEntry(e)); };
    const set: RouteAttrs[] = [{ prefix: '10.0.0.0/8', asPathLength: 1 }];
    fleet.applyReport(a, report(1, { hash: routeSetHash(set), routes: [...set] }), NOW);
    await ship();
    let s = 1, next = 0;
    const sum = new RouteSetHash();
    sum.add(set[0]);
    /** announce `n` new routes, or give the first `n` routes after the first new attributes (a flap) */
    const change = (n: number, flap = false) => {
      const base = sum.toString();
      const announced = flap
        ? set.slice(1, n + 1).map((r) => ({ ...r, asPathLength: r.asPathLength + 1 }))
        : Array.from({ length: n }, () => { const i = next++; return { prefix: `11.${(i >> 8) & 255}.${i & 255}.0/24`, asPathLength: 1 }; });
      if (flap) for (const r of set.splice(1, n, ...announced)) sum.remove(r);
      else set.push(...announced);
      for (const r of announced) sum.add(r);
      fleet.applyReport(a, report(++s, { kind: 'delta', baseHash: base, hash: sum.toString(), announced, withdrawn: [] }), NOW);
    };
    change(1);
    fleet.applyReport(a, report(++s, { hash: routeSetHash(set) }), NOW); // nothing changed
    fleet.applyReport(a, report(++s, { kind: 'delta', baseHash: 'not-the-base', hash: 'opaque', announced: [], withdrawn: [] }), NOW); // refused
    expect(changes.map((c) => (c === undefined || c === 'full' ? c : c.kind))).toEqual(['full', 'delta', undefined, undefined]);
    await ship();
    expect(writer.stats).toEqual({ fullWritten: 1, compactions: 0, deltasWritten: 1 });
    // a growing set's deltas stay deltas (the log is no larger than the set); once the deltas
    // name more routes than the set holds, a full set is written instead
    change(999);
    await ship();
    expect(writer.stats).toMatchObject({ fullWritten: 1, compactions: 0, deltasWritten: 2 });
    change(1000, true);
    await ship();
    expect(writer.stats).toMatchObject({ fullWritten: 2, compactions: 1, deltasWritten: 2 });
    // many small deltas: a full set after COMPACT_MAX_ENTRIES of them, though they name few routes
    for (let i = 0; i < COMPACT_MAX_ENTRIES - 1; i++) { change(1); await ship(); }
    expect(writer.stats).toMatchObject({ fullWritten: 2, compactions: 1 });
    change(1);
    await ship();
    expect(writer.stats).toMatchObject({ fullWritten: 3, compactions: 2, deltasWritten: 2 + COMPACT_MAX_ENTRIES - 1 });
    expect(b.prefixHash).toBe(routeSetHash(set));
    expect(b.routes).toHaveLength(set.length);
    expect(replica.stats.replayMismatches).toBe(0);
    // the deltas of one flush are one entry (a box sending 1,000 a second writes a row per flush),
    // replayed in order to the same set
    const entriesBefore = replica.stats.routeEntriesReplayed;
    for (let i = 0; i < 300; i++) change(1);
    const taken = (await writer.take(a))!;
    expect(taken).toHaveLength(1);
    expect((decodeEntry(taken[0]) as { deltas: unknown[] }).deltas).toHaveLength(300);
    replica.replayRoutes(b, decodeEntry(taken[0]));
    expect(replica.stats.routeEntriesReplayed).toBe(entriesBefore + 1);
    expect(b.prefixHash).toBe(routeSetHash(set));
    expect(b.routes).toHaveLength(set.length);
    expect(replica.stats.replayMismatches).toBe(0);
    // an entry whose deltas do not follow the replica's set stops at the first and leaves the hash unknown
    const stale = await encodeDeltas([{ kind: 'delta', baseHash: 'not-this-set', hash: 'x', announced: [], withdrawn: [] }]);
    replica.replayRoutes(b, decodeEntry(stale));
    expect(replica.stats.replayMismatches).toBe(1);
    expect(b.prefixHash).toBeUndefined();
  });
});
