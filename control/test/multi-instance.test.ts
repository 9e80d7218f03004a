// Two control instances on one PostgreSQL database (a real server, control/test/postgres.ts): the
// stream limit holds across them, and what one accepts (reports, enrollments, sites, titles)
// reaches the other's steering. Convergence is awaited by polling until seen, never by a timing;
// the lag is printed as a measurement.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';
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

describe('two control instances on one PostgreSQL database', () => {
  let pg: TestPostgres;
  let a: Ctx, b: Ctx;
  beforeAll(async () => {
    pg = await startPostgres();
    const database = { kind: 'postgres' as const, url: await pg.database(), poolSize: 10 };
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
});
