// Two control instances on one PostgreSQL database (a real server, control/test/postgres.ts): the
// stream limit holds across them, and what one accepts (reports, enrollments, sites, titles, route
// deltas and full tables through the route log, fill overrides and fill-now) reaches the other's
// steering and fill manifests; a third instance started later catches up from the store.
// Convergence is awaited by polling until seen, never by a timing; the lag is printed as a
// measurement.

import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeSetHash } from '../../protocol/index.ts';
import type { RouteAttrs } from '../../protocol/index.ts';
import { getManifest, TIERS } from './fill-helpers.ts';
import { addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';
import { startPostgres } from './postgres.ts';
import type { TestPostgres } from './postgres.ts';

/** `check` until it returns true (each try after a short pause); fails after `tries` */
async function until(check: () => Promise<boolean>, what: string, tries = 400): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < tries; i++) {
    if (await check()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never converged: ${what}`);
}

/** the steering answer's appliances ('origin' last); none while the title is unknown (404) */
const targets = (r: { status: number; body: { targets: Array<{ applianceId?: string }> } }) =>
  r.status === 200 ? r.body.targets.map((t) => t.applianceId ?? 'origin') : [];

/** median and max of lags in ms, for printing */
function lagSummary(lags: number[]): string {
  const sorted = [...lags].sort((x, y) => x - y);
  return `median ${sorted[sorted.length >> 1].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`;
}

/** 300,000 /24s from 100.0.0.0 on, grouped by AS-path length as an appliance sends a full table */
function fullTable(): { routes: RouteAttrs[]; groups: Array<{ attrs: Omit<RouteAttrs, 'prefix'>; prefixes: string[] }> } {
  const routes: RouteAttrs[] = Array.from({ length: 300_000 }, (_, i) => ({ prefix: `${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, asPathLength: 1 + (i % 5) }));
  const groups = [1, 2, 3, 4, 5].map((n) => ({ attrs: { asPathLength: n }, prefixes: routes.filter((r) => r.asPathLength === n).map((r) => r.prefix) }));
  return { routes, groups };
}

describe('two control instances on one PostgreSQL database', () => {
  let pg: TestPostgres;
  let a: Ctx, b: Ctx;
  let database: { kind: 'postgres'; url: string; poolSize: number };
  beforeAll(async () => {
    pg = await startPostgres();
    database = { kind: 'postgres' as const, url: await pg.database(), poolSize: 10 };
    // started together: both migrate under the advisory lock, one does the work
    [a, b] = await Promise.all([startTestControl({ database }), startTestControl({ database })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
  });

  it('a site, an enrollment, a title and reports accepted by A steer on B', async () => {
    await addSite(a, 's1');
    const box = await enroll(a, 's1', 'box1');
    await addTitle(a, titleRecord('t1'));
    const steerOnB = () => b.call('GET', '/v1/steering?ip=192.0.2.9&titleId=t1', { token: OPERATOR });
    await until(async () => (await steerOnB()).status === 200, 'B knows the title A registered');
    expect(targets(await steerOnB())).toEqual(['origin']);

    const sent = performance.now();
    expect((await sendReport(a, box, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '192.0.2.0/24', asPathLength: 1 }] })).status).toBe(200);
    await until(async () => targets(await steerOnB()).includes(box.applianceId), 'B steers to the box A heard from');
    const lag = performance.now() - sent;
    expect(targets(await steerOnB())).toEqual([box.applianceId, 'origin']);
    // the title A registered plays on B
    const acc = await addAccount(b, 'basic');
    expect((await b.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'tv' } })).status).toBe(201);
    console.log(`cross-instance lag, first report (enrolled on A): ${lag.toFixed(0)} ms`);
  });

  it('state follows whichever instance heard the appliance last', async () => {
    await addSite(b, 's2');
    await addTitle(b, titleRecord('t2'));
    const box = await enroll(b, 's2', 'box2');
    const routes = [{ prefix: '198.51.100.0/24', asPathLength: 1 }];
    await sendReport(b, box, { files: ['t2.v1', 't2.a1'], routes });
    const steer = (c: Ctx) => c.call('GET', '/v1/steering?ip=198.51.100.7&titleId=t2', { token: OPERATOR });
    await until(async () => targets(await steer(a)).includes(box.applianceId), 'A learns of box2');

    // the box fails while reporting to A, then recovers while reporting to B
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const [to, other] = i % 2 === 0 ? [a, b] : [b, a];
      const failing = i % 4 < 2;
      const t0 = performance.now();
      await sendReport(to, box, { health: { status: failing ? 'failing' : 'ok', reasons: failing ? ['disk'] : [] } });
      await until(async () => targets(await steer(other)).includes(box.applianceId) === !failing, `report ${i} reaches the other instance`).catch((e) => {
        const st = (c: Ctx) => { const x = c.control.fleet.get(box.applianceId)!; return JSON.stringify({ seq: x.seq, h: x.health, st: c.control.fleet.status(x, c.clock.t), stats: c.control.cluster.stats }); };
        throw new Error(`${e.message}: A ${st(a)} B ${st(b)}`);
      });
      lags.push(performance.now() - t0);
    }
    // both hold the last report's state: the older snapshot each wrote did not undo the newer
    await until(async () => a.control.fleet.get(box.applianceId)!.seq === box.seq && b.control.fleet.get(box.applianceId)!.seq === box.seq, 'both at the last seq');
    lags.sort((x, y) => x - y);
    console.log(`cross-instance lag over ${lags.length} reports: median ${lags[lags.length >> 1].toFixed(0)} ms, max ${lags[lags.length - 1].toFixed(0)} ms (report interval ${a.control.settings.reportIntervalMs} ms)`);
  });

  it('an operator drain on A reaches B', async () => {
    await addSite(a, 's3');
    const box = await enroll(a, 's3', 'box3');
    await sendReport(a, box, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '203.0.113.0/24', asPathLength: 1 }] });
    const steer = () => b.call('GET', '/v1/steering?ip=203.0.113.7&titleId=t1', { token: OPERATOR });
    await until(async () => targets(await steer()).includes(box.applianceId), 'B learns of box3');
    expect((await a.call('PUT', `/v1/appliances/${box.applianceId}/drain`, { token: OPERATOR, body: { drain: true } })).status).toBe(200);
    await until(async () => !targets(await steer()).includes(box.applianceId), 'B stops steering to the drained box');
  });

  it.each([['basic', 1, 6], ['standard', 2, 8], ['premium', 4, 12]] as const)(
    'simultaneous starts for one %s account, split over both instances, never exceed %i streams', async (plan, limit, tries) => {
      const titleId = `race${limit}`;
      await addTitle(a, titleRecord(titleId));
      await until(async () => (await b.call('GET', `/v1/steering?ip=192.0.2.1&titleId=${titleId}`, { token: OPERATOR })).status === 200, 'B knows the title');
      const acc = await addAccount(a, plan);
      const results = await Promise.all(Array.from({ length: tries }, (_, i) =>
        (i % 2 === 0 ? a : b).call('POST', '/v1/playback', { token: acc.token, body: { titleId, profileId: acc.profileId, device: `dev-${i}` } })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(limit);
      expect(results.filter((r) => r.status === 429)).toHaveLength(tries - limit);
      const refused = results.find((r) => r.status === 429)!;
      expect(refused.body.error.devices).toHaveLength(limit);
    });

  describe('route sets', () => {
    const base: RouteAttrs[] = [{ prefix: '10.20.0.0/16', asPathLength: 1 }];
    const added = (i: number): RouteAttrs => ({ prefix: `10.30.${i}.0/24`, asPathLength: 2 });
    let box: Enrolled, big: Enrolled;
    const steer = (c: Ctx, ip: string) => c.call('GET', `/v1/steering?ip=${ip}&titleId=rt`, { token: OPERATOR });
    const steersTo = async (c: Ctx, ip: string, id: string) => targets(await steer(c, ip)).includes(id);
    const files = ['rt.v1', 'rt.a1'];
    beforeAll(async () => {
      await addTitle(a, titleRecord('rt'));
      await until(async () => (await steer(b, '192.0.2.1')).status === 200, 'B knows the title');
    });

    it('a route delta reported to A changes B\'s steering within one report interval', async () => {
      await addSite(a, 's6');
      box = await enroll(a, 's6', 'box6');
      await sendReport(a, box, { files, prefixes: { hash: routeSetHash(base), routes: base } });
      await until(async () => steersTo(b, '10.20.1.1', box.applianceId), 'B steers on the full set A accepted');
      const set = [...base];
      const lags: number[] = [];
      // announce a /24 (B starts steering it to the box), withdraw it (B stops), …, announce a last one
      for (let i = 0; i < 9; i++) {
        const announce = i % 2 === 0;
        const r = added(announce ? i : i - 1);
        const before = routeSetHash(set);
        if (announce) set.push(r);
        else set.pop();
        const hash = routeSetHash(set);
        const t0 = performance.now();
        const reply = await sendReport(a, box, { prefixes: { kind: 'delta', baseHash: before, hash, announced: announce ? [r] : [], withdrawn: announce ? [] : [{ prefix: r.prefix }] } });
        expect(reply.body.needPrefixes).toBeUndefined();
        await until(async () => (await steersTo(b, r.prefix.replace(/0\/24$/, '9'), box.applianceId)) === announce, `delta ${i} reaches B`);
        lags.push(performance.now() - t0);
      }
      const held = b.control.fleet.get(box.applianceId)!;
      await until(async () => held.prefixHash === routeSetHash(set), 'B holds the box\'s last route set');
      expect(held.routeSum.toString()).toBe(routeSetHash(set));
      expect(b.control.fleet.stats.replayMismatches).toBe(0);
      console.log(`cross-instance lag of a route delta over ${lags.length} deltas: ${lagSummary(lags)} (report interval ${a.control.settings.reportIntervalMs} ms)`);
    });

    it('a 300,000-route table reported to A is steered by B (above the old 250,000 cut)', async () => {
      await addSite(a, 's7');
      big = await enroll(a, 's7', 'box7');
      const { routes, groups } = fullTable();
      const hash = routeSetHash(routes);
      const t0 = performance.now();
      const reply = await sendReport(a, big, { files, prefixes: { hash, groups } });
      const accepted = performance.now() - t0;
      expect(reply.status).toBe(200);
      expect(reply.body.needPrefixes).toBeUndefined();
      const last = routes[routes.length - 1].prefix.replace(/0\/24$/, '9');
      await until(async () => steersTo(b, last, big.applianceId), 'B steers into the last prefix of the table', 12_000);
      const lag = performance.now() - t0;
      const held = b.control.fleet.get(big.applianceId)!;
      expect(held.routes).toHaveLength(routes.length);
      expect([held.prefixHash, held.routeSum.toString()]).toEqual([hash, hash]);
      expect(await steersTo(b, '100.0.0.9', big.applianceId)).toBe(true);
      // one row for the whole table, not one per route
      const db = new pgClient.Client({ connectionString: database.url });
      await db.connect();
      const { rows } = await db.query('SELECT count(*)::int AS n, max(length(body))::int AS bytes FROM route_log WHERE appliance_id = $1', [big.applianceId]).finally(() => db.end());
      expect(rows[0].n).toBe(1);
      console.log(`300,000-route table: A accepted the report in ${accepted.toFixed(0)} ms, B steered on it ${(lag - accepted).toFixed(0)} ms later; one route_log row of ${(rows[0].bytes / 1e6).toFixed(2)} MB`);
    });

    it('an instance started later catches up from the full set and the deltas since', async () => {
      const set = [...base, added(8)];
      // one more delta before the new instance starts: the log is the table plus deltas
      const more = added(100);
      await sendReport(a, big, { prefixes: { kind: 'delta', baseHash: b.control.fleet.get(big.applianceId)!.prefixHash!, hash: routeSetHash([...fullTable().routes, more]), announced: [more], withdrawn: [] } });
      await a.control.flush();
      const c = await startTestControl({ database });
      try {
        c.clock.t = a.clock.t;
        const held = c.control.fleet.get(box.applianceId)!;
        expect(held.prefixHash).toBe(routeSetHash(set));
        expect(await steersTo(c, '10.30.8.9', box.applianceId)).toBe(true);
        expect(await steersTo(c, '10.30.6.9', box.applianceId)).toBe(false);
        const bigHeld = c.control.fleet.get(big.applianceId)!;
        expect(bigHeld.routes).toHaveLength(300_001);
        expect(bigHeld.routeSum.toString()).toBe(bigHeld.prefixHash);
        expect(await steersTo(c, '10.30.100.9', big.applianceId)).toBe(true);
        expect(c.control.fleet.stats.replayMismatches).toBe(0);
        // and it follows the feed from there
        const next = [...set, added(10)];
        await sendReport(a, box, { prefixes: { kind: 'delta', baseHash: routeSetHash(set), hash: routeSetHash(next), announced: [added(10)], withdrawn: [] } });
        await until(async () => steersTo(c, '10.30.10.9', box.applianceId), 'the new instance follows the feed');
      } finally {
        await c.close();
      }
    });
  });

  it('fill overrides and fill-now set on A reach the manifests B hands the appliances that report to it', async () => {
    await addSite(b, 's8');
    await addTitle(b, titleRecord('t8'));
    const box = await enroll(b, 's8', 'box8');
    await sendReport(b, box, { tiers: TIERS, files: [] });
    expect((await b.call('POST', '/v1/fill/plan', { token: OPERATOR })).status).toBe(200);
    await sendReport(b, box, { tiers: TIERS });
    const manifest = async () => (await getManifest(b, box)).body;
    expect((await manifest()).fillNowUntil).toBeNull();
    const lags: number[] = [];
    const changes: Array<[string, () => Promise<{ status: number }>, (m: any) => boolean]> = [
      ['site fill-now', () => a.call('POST', '/v1/sites/s8/fill-now', { token: OPERATOR, body: { minutes: 90 } }), (m) => m.fillNowUntil === a.clock.t + 90 * 60_000],
      ['appliance fill-now', () => a.call('POST', `/v1/appliances/${box.applianceId}/fill-now`, { token: OPERATOR, body: { minutes: 120 } }), (m) => m.fillNowUntil === a.clock.t + 120 * 60_000],
      ['site fill rate', () => a.call('PUT', '/v1/sites/s8/fill', { token: OPERATOR, body: { rateLimitBps: 300e6 } }), (m) => m.rateLimitBps === 300e6],
    ];
    for (const [what, change, seen] of changes) {
      const t0 = performance.now();
      expect((await change()).status).toBe(200);
      await until(async () => seen(await manifest()), `${what} on A reaches B's manifest`);
      lags.push(performance.now() - t0);
      // and the version in B's report reply moves with it, so the box fetches the new manifest
      expect((await sendReport(b, box, { tiers: TIERS })).body.fillManifest).toBe((await manifest()).version);
    }
    console.log(`cross-instance lag of fill overrides and fill-now: ${lagSummary(lags)}`);
  });
});
