// How the reporter answers control's replies, against a real HTTP server that validates every
// body with protocol's ApplianceReport and replies as the test scripts: prefixes go as deltas
// from a real adj-RIB-in, a stand-in control that applies them and checks the route-set hash
// stays equal to the RIB through failures and lost changes; needPrefixes and needInventory bring
// the full sets back, seq grows within one bootId, and 5xx answers back off.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplianceReport, routeSetHash, type PrefixReport, type ReportReply, type RouteAttrs } from '../../../protocol/index.ts';
import { AdjRibIn } from '../../src/bgp/adj-rib-in.ts';
import { Reporter } from '../../src/report/reporter.ts';
import { ReporterSettings } from '../../src/report/settings.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeControl(reply: (r: ApplianceReport) => [number, ReportReply | object]) {
  const reports: ApplianceReport[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const send = (status: number, obj: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.url === '/v1/appliances/enroll') return send(201, { applianceId: 'app-1', siteId: 's', credential: 'cred-1', reportIntervalMs: 1000 });
      if (req.headers.authorization !== 'Bearer cred-1') return send(401, { error: { code: 'unauthenticated', message: 'no' } });
      const parsed = ApplianceReport.safeParse(JSON.parse(body));
      if (!parsed.success) return send(400, { error: { code: 'bad_request', message: parsed.error.message } });
      reports.push(parsed.data);
      const [status, out] = reply(parsed.data);
      send(status, out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reports };
}

async function reporter(url: string, rib: AdjRibIn, files: string[], o: { now?: () => number; fullSyncMs?: number } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-rep-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return new Reporter({
    controlUrl: url, stateDir: dir, softwareVersion: 't',
    settings: ReporterSettings.parse({ enrollmentToken: 'x'.repeat(20), prefixFullSyncMs: o.fullSyncMs ?? 3_600_000 }),
    snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1, connections: 0, cpu: 0 }, tiers: [], inventory: files }),
    bgp: { prefixes: rib, sessions: () => [] },
    ...(o.now ? { timers: { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), now: o.now } } : {}),
  });
}

/**
 * What a control makes of the reports, as plain maps: deltas applied (each lists final states, so
 * a re-sent one is harmless) and the result's route-set hash checked against the appliance's.
 */
function controlView() {
  const set = new Map<string, RouteAttrs>();
  const key = (r: { prefix: string; peer?: string }) => `${r.prefix} ${r.peer ?? ''}`;
  let hash: string | undefined;
  return {
    set,
    /** apply like control does; returns what control would answer */
    apply(p: PrefixReport | undefined): ReportReply {
      if (!p) return { ok: true };
      if ('kind' in p) {
        for (const w of p.withdrawn) set.delete(key(w));
        for (const r of p.announced) set.set(key(r), r);
        hash = routeSetHash(set.values()) === p.hash ? p.hash : undefined;
        return hash === undefined ? { ok: true, needPrefixes: true } : { ok: true };
      }
      if (p.routes || p.groups) {
        set.clear();
        for (const r of p.routes ?? []) set.set(key(r), r);
        for (const g of p.groups ?? []) for (const prefix of g.prefixes) set.set(key({ prefix, peer: g.attrs.peer }), { prefix, ...g.attrs });
        expect(routeSetHash(set.values())).toBe(p.hash);
        hash = p.hash;
        return { ok: true };
      }
      return p.hash === hash ? { ok: true } : { ok: true, needPrefixes: true };
    },
  };
}

const PEER = '192.0.2.1';
const route = (prefix: string, o: Partial<RouteAttrs> = {}): RouteAttrs => ({ prefix, asPathLength: 1, asPath: [65001], peer: PEER, ...o });

describe('reporter replies', () => {
  it('sends the full set first, then deltas and hashes; full again when control asks; seq grows', async () => {
    let ask: ReportReply = { ok: true };
    const c = await fakeControl(() => [200, ask]);
    const rib = new AdjRibIn();
    rib.apply(PEER, [], [route('81.0.0.0/24'), route('81.0.1.0/24', { med: 5 }), route('2a00:1::/32')]);
    const files = ['t1.v1'];
    const rep = await reporter(c.url, rib, files);
    await rep.reportOnce();
    await rep.reportOnce();
    const first = c.reports[0].prefixes!;
    expect('groups' in first && first.groups!.map((g) => g.prefixes.length).sort()).toEqual([1, 2]); // two attribute sets
    expect(first.hash).toBe(rib.hash());
    expect(c.reports[0].inventory?.kind).toBe('full');
    expect(c.reports[1].prefixes).toEqual({ hash: rib.hash() });
    expect(c.reports[1].inventory).toMatchObject({ kind: 'delta', added: [], removed: [] });
    // A change goes as a delta naming only it.
    const base = rib.hash();
    rib.apply(PEER, ['81.0.1.0/24'], [route('81.0.2.0/24', { med: 7 })]);
    await rep.reportOnce();
    expect(c.reports[2].prefixes).toEqual({
      kind: 'delta', baseHash: base, hash: rib.hash(), announced: [route('81.0.2.0/24', { med: 7 })], withdrawn: [{ prefix: '81.0.1.0/24', peer: PEER }],
    });
    // Withdrawn and announced back as it was: nothing to send but the hash.
    rib.apply(PEER, ['81.0.0.0/24'], []);
    rib.apply(PEER, [], [route('81.0.0.0/24')]);
    await rep.reportOnce();
    expect(c.reports[3].prefixes).toEqual({ hash: rib.hash() });
    ask = { ok: true, needPrefixes: true, needInventory: true };
    await rep.reportOnce();
    ask = { ok: true };
    await rep.reportOnce();
    expect(c.reports[5].prefixes).toMatchObject({ hash: rib.hash(), groups: expect.any(Array) });
    expect(c.reports[5].inventory?.kind).toBe('full');
    expect(c.reports.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(c.reports.map((r) => r.bootId)).size).toBe(1);
    expect(rep.stats).toMatchObject({ fullPrefixes: 2, prefixDeltas: 1 });
  });

  it('keeps control\'s copy equal to the RIB through random changes and failed reports, hash-checked', async () => {
    const view = controlView();
    let fail: 'no' | 'before' | 'after' = 'no', fullAsked = 0;
    const c = await fakeControl((r) => {
      const down: [number, object] = [503, { error: { code: 'unavailable', message: 'down' } }];
      if (fail === 'before') return down;
      const out = view.apply(r.prefixes);
      if (fail === 'after') return down; // applied, but the answer is lost
      if (out.needPrefixes) fullAsked++;
      return [200, out];
    });
    const rib = new AdjRibIn();
    let s = 3;
    const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32; };
    const pool = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `2a00:${i.toString(16)}::/32` : `81.${i >> 4}.${(i & 15) * 16}.0/20`));
    const rep = await reporter(c.url, rib, []);
    for (let round = 0; round < 120; round++) {
      const n = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < n; k++) {
        const prefix = pool[Math.floor(rnd() * pool.length)];
        const peer = rnd() < 0.7 ? PEER : '192.0.2.2';
        if (rnd() < 0.4) rib.apply(peer, [prefix], []);
        else rib.apply(peer, [], [route(prefix, { peer, med: Math.floor(rnd() * 3) })]);
      }
      const u = rnd();
      fail = u < 0.15 ? 'before' : u < 0.25 ? 'after' : 'no';
      await rep.reportOnce();
      fail = 'no';
      {
        // Whatever control answered, one more report brings it level with the RIB.
        await rep.reportOnce();
        expect(new Map([...view.set].map(([k, r]) => [k, r]))).toEqual(new Map(rib.snapshot().routes.map((r) => [`${r.prefix} ${r.peer ?? ''}`, r])));
      }
    }
    expect(rep.stats.prefixDeltas).toBeGreaterThan(50);
    // Answers lost after control applied a delta cost no full set: the next delta repeats those
    // changes on the old base, and the result's hash matches.
    expect(rep.stats.fullPrefixes).toBe(1);
    expect(fullAsked).toBe(0);
  });

  it('a control that lost a delta (hash mismatch) gets the full set on the next report', async () => {
    const view = controlView();
    const c = await fakeControl((r) => [200, view.apply(r.prefixes)]);
    const rib = new AdjRibIn();
    rib.apply(PEER, [], [route('81.0.0.0/24')]);
    const rep = await reporter(c.url, rib, []);
    await rep.reportOnce();
    rib.apply(PEER, [], [route('81.0.1.0/24')]);
    rib.takeChanges(); // the change never reaches the reporter: its next delta is incomplete
    rib.apply(PEER, [], [route('81.0.2.0/24')]);
    await rep.reportOnce();
    expect(c.reports[1].prefixes).toMatchObject({ kind: 'delta', announced: [route('81.0.2.0/24')] });
    await rep.reportOnce();
    expect(c.reports[2].prefixes).toMatchObject({ groups: expect.any(Array) });
    expect([...view.set.keys()].sort()).toEqual(['81.0.0.0/24 192.0.2.1', '81.0.1.0/24 192.0.2.1', '81.0.2.0/24 192.0.2.1']);
  });

  it('sends the full set every prefixFullSyncMs, and when more changed than a delta is worth', async () => {
    const view = controlView();
    const c = await fakeControl((r) => [200, view.apply(r.prefixes)]);
    const rib = new AdjRibIn();
    let now = 1_000_000;
    const rep = await reporter(c.url, rib, [], { now: () => now, fullSyncMs: 60_000 });
    rib.apply(PEER, [], [route('81.0.0.0/24')]);
    await rep.reportOnce(); // full
    now += 30_000;
    await rep.reportOnce(); // hash
    now += 30_000;
    await rep.reportOnce(); // a minute since the last full set
    const many = Array.from({ length: 20_001 }, (_, i) => `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
    rib.applyUpdate(PEER, [], many, { asPathLength: 1, asPath: [65001], peer: PEER });
    now += 1_000;
    await rep.reportOnce(); // too many changes for a delta
    expect(c.reports.map((r) => ('kind' in r.prefixes! ? 'delta' : r.prefixes!.groups || r.prefixes!.routes ? 'full' : 'hash'))).toEqual(['full', 'hash', 'full', 'full']);
    expect(view.set.size).toBe(20_002);
  });

  it('falls back to plain routes for a control that drops grouped full sets', async () => {
    const c = await fakeControl((r) => [200, r.prefixes && !('kind' in r.prefixes) && r.prefixes.routes ? { ok: true } : { ok: true, needPrefixes: true }]);
    const rib = new AdjRibIn();
    rib.apply(PEER, [], [route('81.0.0.0/24')]);
    const rep = await reporter(c.url, rib, []);
    await rep.reportOnce();
    await rep.reportOnce();
    await rep.reportOnce();
    expect(c.reports[0].prefixes).toMatchObject({ groups: expect.any(Array) });
    expect(c.reports[1].prefixes).toEqual({ hash: rib.hash(), routes: [route('81.0.0.0/24')] });
    expect(c.reports[2].prefixes).toEqual({ hash: rib.hash() });
  });

  it('counts a cycle with no credential and no enrollment token as a failed report', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-rep-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const rep = new Reporter({
      controlUrl: 'http://127.0.0.1:9', stateDir: dir, softwareVersion: 't', settings: ReporterSettings.parse({}),
      snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1, connections: 0, cpu: 0 }, tiers: [], inventory: [] }),
    });
    expect(await rep.reportOnce()).toBe('no-credential');
    expect(await rep.reportOnce()).toBe('no-credential');
    // edgebox_control_reports{outcome="failed"} reads stats.failures: a box that cannot report must show it
    expect(rep.stats).toMatchObject({ failures: 2, sent: 0, enrollments: 0 });
  });

  it('backs off on 5xx with growing delays and recovers', async () => {
    let fail = true;
    const c = await fakeControl(() => (fail ? [503, { error: { code: 'unavailable', message: 'down' } }] : [200, { ok: true }]));
    const delays: number[] = [];
    const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-rep-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const rep = new Reporter({
      controlUrl: c.url, stateDir: dir, softwareVersion: 't', random: () => 0.5,
      settings: ReporterSettings.parse({ enrollmentToken: 'x'.repeat(20), backoffMinMs: 10, backoffMaxMs: 80, reportIntervalMs: 50 }),
      snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1, connections: 0, cpu: 0 }, tiers: [], inventory: [] }),
      timers: { setTimeout: (f, ms) => { delays.push(ms); return setTimeout(f, ms); }, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), now: () => Date.now() },
    });
    cleanups.push(() => rep.stop());
    rep.start();
    while (rep.stats.failures < 6) await new Promise((r) => setTimeout(r, 10));
    fail = false;
    while (rep.stats.sent < 2) await new Promise((r) => setTimeout(r, 10));
    await rep.stop();
    // first tick 0, then 10, 20, 40, 80, 80 (capped), …; the first answer after failures is
    // followed at once (0) by a report of the box as it is now, then the regular interval
    expect(delays.slice(0, 6)).toEqual([0, 10, 20, 40, 80, 80]);
    expect(delays.slice(-2)).toEqual([0, 50]);
  });
});
