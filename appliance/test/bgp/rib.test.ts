// The compact adj-RIB-in against a plain map of RouteAttrs through random UPDATEs, stale marking
// and sweeps: same routes, its running hash equal to the route-set hash of the snapshot, every
// changed key in the journal, attribute sets released when no route uses them. And the NLRI
// decoder's prefix text against protocol's formatPrefix on random octets.

import { describe, expect, it } from 'vitest';
import { formatPrefix, routeSetHash, type Family, type RouteAttrs } from '../../../protocol/index.ts';
import { AdjRibIn, JOURNAL_LIMIT, type RouteAttributes } from '../../src/bgp/adj-rib-in.ts';
import { decodePrefixes } from '../../src/bgp/nlri.ts';
import { seededRandom as rng } from '../../../protocol/index.ts';


describe('adj-RIB-in', () => {
  it('matches a plain map through random updates, stale marking and sweeps', () => {
    const r = rng(9);
    const rib = new AdjRibIn();
    const ref = new Map<string, Map<string, { route: RouteAttrs; stale: boolean }>>();
    const peers = ['192.0.2.1', '2001:db8::1'];
    const pool = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? `2a00:${i.toString(16)}::/32` : `81.${i >> 2}.${(i & 3) * 64}.0/18`));
    const attrPool: RouteAttributes[] = Array.from({ length: 12 }, (_, i) => ({
      asPathLength: 1 + (i % 3), asPath: [65001, 65000 + i], ...(i % 2 ? { med: i } : {}), ...(i % 5 === 0 ? { communities: [`65001:${i}`] } : {}),
    }));
    const touched = new Map<string, Set<string>>();
    const touch = (peer: string, p: string) => {
      let t = touched.get(peer);
      if (!t) touched.set(peer, (t = new Set()));
      t.add(p);
    };
    const check = () => {
      const want = [...ref.values()].flatMap((t) => [...t.values()].map((e) => e.route));
      const got = rib.snapshot().routes;
      expect(new Set(got.map((x) => JSON.stringify(x)))).toEqual(new Set(want.map((x) => JSON.stringify(x))));
      expect(rib.hash()).toBe(routeSetHash(want));
      for (const peer of peers) expect(rib.count(peer)).toBe(ref.get(peer)?.size ?? 0);
      const j = rib.takeChanges()!;
      // Every key that changed is journaled (a re-announcement as it was may be left out).
      for (const [peer, ps] of touched) for (const p of ps) {
        const before = snapshotBefore.get(`${peer} ${p}`);
        const now = ref.get(peer)?.get(p)?.route;
        if (JSON.stringify(before) !== JSON.stringify(now)) expect(j.get(peer)?.has(p), `${peer} ${p}`).toBe(true);
      }
      touched.clear();
      snapshotBefore = new Map([...ref].flatMap(([peer, t]) => [...t].map(([p, e]) => [`${peer} ${p}`, e.route] as const)));
    };
    let snapshotBefore = new Map<string, RouteAttrs>();
    for (let round = 0; round < 400; round++) {
      const peer = peers[Math.floor(r() * peers.length)];
      const t = ref.get(peer) ?? new Map();
      ref.set(peer, t);
      const u = r();
      if (u < 0.03) {
        rib.markStale(peer);
        for (const e of t.values()) e.stale = true;
      } else if (u < 0.06) {
        const family = r() < 0.5 ? 4 : 6;
        rib.sweepStale(peer, family);
        for (const [p, e] of t) if (e.stale && (p.includes(':') ? 6 : 4) === family) { t.delete(p); touch(peer, p); }
      } else {
        const withdrawn = Array.from({ length: Math.floor(r() * 4) }, () => pool[Math.floor(r() * pool.length)]);
        const announced = Array.from({ length: Math.floor(r() * 6) }, () => pool[Math.floor(r() * pool.length)]);
        const attrs = { ...attrPool[Math.floor(r() * attrPool.length)], peer };
        rib.applyUpdate(peer, withdrawn, announced, announced.length > 0 ? attrs : null);
        for (const p of withdrawn) { t.delete(p); touch(peer, p); }
        for (const p of announced) { t.set(p, { route: { prefix: p, ...attrs }, stale: false }); touch(peer, p); }
      }
      if (round % 20 === 0) check();
    }
    check();
    for (const peer of peers) rib.clearPeer(peer);
    expect(rib.size).toBe(0);
    expect(rib.attributeSets).toBe(0);
    expect(rib.hash()).toBe(routeSetHash([]));
  });

  it('a stale route re-announced as it was is fresh again without counting as a change', () => {
    const rib = new AdjRibIn();
    const attrs = { asPathLength: 1, asPath: [65001], peer: 'p' };
    rib.applyUpdate('p', [], ['81.0.0.0/24', '2a00:1::/32'], attrs);
    rib.takeChanges();
    const v = rib.version;
    rib.markStale('p');
    rib.applyUpdate('p', [], ['81.0.0.0/24'], attrs);
    expect(rib.version).toBe(v);
    expect(rib.takeChanges()!.size).toBe(0);
    expect(rib.sweepStale('p')).toBe(1); // only the IPv6 one was still stale
    expect(rib.snapshot().routes.map((x) => x.prefix)).toEqual(['81.0.0.0/24']);
  });

  it('gives up listing changes past the journal limit (the reporter sends the full set)', () => {
    const rib = new AdjRibIn();
    const many = Array.from({ length: JOURNAL_LIMIT + 1 }, (_, i) => `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
    rib.applyUpdate('p', [], many, { asPathLength: 1, peer: 'p' });
    expect(rib.takeChanges()).toBeNull();
    rib.applyUpdate('p', [many[0]], [], null);
    expect([...rib.takeChanges()!.get('p')!]).toEqual([many[0]]);
  });
});

describe('NLRI prefixes', () => {
  it('decode to the text formatPrefix writes, trailing bits cleared', () => {
    const r = rng(4);
    for (let i = 0; i < 50_000; i++) {
      const family: Family = r() < 0.5 ? 4 : 6;
      const width = family === 4 ? 32 : 128;
      const length = Math.floor(r() * (width + 1));
      const n = (length + 7) >> 3;
      const bytes = Buffer.alloc(1 + n);
      bytes[0] = length;
      for (let k = 0; k < n; k++) bytes[1 + k] = r() < 0.3 ? 0 : Math.floor(r() * 256);
      let bits = 0n;
      for (let k = 0; k < n; k++) bits = (bits << 8n) | BigInt(bytes[1 + k]);
      bits <<= BigInt(width - n * 8);
      const keep = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(width - length);
      expect(decodePrefixes(bytes, 0, bytes.length, family, 3, 10)).toEqual([formatPrefix({ family, bits: bits & keep, length })]);
    }
  });
});
