// Fill over real HTTP against a real control (SQLite, injected clock): plans, manifests and their
// versions, sources, peer tokens, bad copies, windows and rates, and steering only to holders.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FillManifest, verifyPeerToken } from '../../protocol/index.ts';
import { fillReport, getManifest, TIERS } from './fill-helpers.ts';
import { addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

const T1 = ['t1.v1', 't1.a1'];
const ROUTES = [{ prefix: '10.0.0.0/8', asPathLength: 1 }];

const sourcesOf = (m: FillManifest, fileId: string) => m.files.find((f) => f.fileId === fileId)?.sources;

describe('fill manifests over HTTP', () => {
  let ctx: Ctx;
  let a1: Enrolled, a2: Enrolled, a3: Enrolled, ix1: Enrolled, other: Enrolled;
  const plan = () => ctx.call('POST', '/v1/fill/plan', { token: OPERATOR });
  /** a report with disks, as every filling appliance sends */
  const send = (a: Enrolled, over: Parameters<typeof sendReport>[2] = {}) => sendReport(ctx, a, { tiers: TIERS, ...over });

  beforeAll(async () => {
    ctx = await startTestControl({ fillPlanSchedule: '', fillSourcesRefreshMs: 0 });
    await addSite(ctx, 's1');
    await addSite(ctx, 's2');
    await addSite(ctx, 'ix-eu', 'ix');
    await addSite(ctx, 'ix-us', 'ix', 'us');
    await addTitle(ctx, titleRecord('t1'));
    await addTitle(ctx, titleRecord('t2'));
    a1 = await enroll(ctx, 's1', 'a1');
    a2 = await enroll(ctx, 's1', 'a2');
    a3 = await enroll(ctx, 's1', 'a3');
    other = await enroll(ctx, 's2', 'other');
    ix1 = await enroll(ctx, 'ix-eu', 'ix1');
    await enroll(ctx, 'ix-us', 'ix-far');
  });
  afterAll(() => ctx.close());

  it('refuses strangers and has nothing before a plan', async () => {
    const none = await fetch(`${ctx.url}/v1/appliances/${a1.applianceId}/fill-manifest`);
    expect(none.status).toBe(401);
    expect((await getManifest(ctx, { ...a2, applianceId: a1.applianceId })).status).toBe(403);
    const before = await getManifest(ctx, a1);
    expect([before.status, before.body.error.code]).toEqual([404, 'no_fill_plan']);
    // an appliance that never reported its disks is left out of a plan and told nothing
    await plan();
    expect((await sendReport(ctx, a1)).body.fillManifest).toBeUndefined();
  });

  it('a plan gives every reporting appliance a manifest: its version in the report reply, ETag and 304', async () => {
    await send(a1, { files: [], routes: ROUTES });
    await send(a2, { files: T1 });
    await send(a3, { files: T1 });
    await send(other, { files: [] });
    await send(ix1, { files: T1 });
    const run = await plan();
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ trigger: 'operator', titles: 2, files: 4, stats: { sites: 4, appliances: 5 } });
    expect(run.body.churn.find((c: { applianceId: string }) => c.applianceId === a1.applianceId)).toMatchObject({ files: 4, addBytes: 4000, heldBytes: 0 });

    const reply = await send(a1);
    expect(reply.body.fillManifest).toMatch(/^[0-9a-f]{32}$/);
    const m = await getManifest(ctx, a1);
    expect(m.status).toBe(200);
    expect(m.etag).toBe(`"${reply.body.fillManifest}"`);
    const manifest = FillManifest.parse(m.body);
    expect(manifest).toMatchObject({
      version: reply.body.fillManifest, applianceId: a1.applianceId, siteId: 's1', region: 'eu',
      window: { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, fillNowUntil: null,
      rateLimitBps: 1.2e9, peerServeRateBps: 0, escalation: { peerMs: 60_000, tierMs: 120_000, allowOrigin: true },
    });
    expect(manifest.files.map((f) => f.rank).sort()).toEqual([0, 1, 2, 3]);
    expect(manifest.files.map((f) => [f.fileId, f.bytes, f.kind, f.sha256])).toContainEqual(['t1.a1', 1000, 'audio', 'a'.repeat(64)]);
    // 3000 B of SSD less 10% headroom: the two best-ranked files on SSD, the rest on HDD
    expect(manifest.files.map((f) => f.tier)).toEqual(['ssd', 'ssd', 'hdd', 'hdd']);
    const again = await getManifest(ctx, a1, m.etag!);
    expect([again.status, again.etag, again.body]).toEqual([304, m.etag, undefined]);
  });

  it('sources: peers of the site that hold the file (healthy first), the IX tier, then the origin', async () => {
    ctx.clock.t += 31_000; // a3 falls silent → stale
    for (const a of [a1, a2, ix1]) await send(a);
    const m = (await getManifest(ctx, a1)).body as FillManifest;
    expect(sourcesOf(m, 't1.v1')).toEqual([a2.applianceId, a3.applianceId, ix1.applianceId, 'origin']);
    expect(m.files.find((f) => f.fileId === 't1.v1')!.notYet).toBeUndefined();
    // nobody holds t2.v1: the site's first fetcher of it (unless that is a1) and the IX appliance
    // planned to hold it, both marked notYet (fill-sources.test.ts has the details)
    const t2 = m.files.find((f) => f.fileId === 't2.v1')!;
    expect(t2.sources.slice(-2)).toEqual([ix1.applianceId, 'origin']);
    expect(t2.notYet).toEqual(t2.sources.slice(0, -1));
    expect(m.sources).toEqual(expect.arrayContaining([
      { id: a2.applianceId, level: 'peer', baseUrl: 'http://a2.test:8081' },
      { id: ix1.applianceId, level: 'tier', baseUrl: 'http://ix1.test:8081' },
      { id: 'origin', level: 'origin', baseUrl: 'http://origin.test:8090' },
    ]));
    // an IX appliance fills from its own site and the origin, never from embedded boxes
    const ix = (await getManifest(ctx, ix1)).body as FillManifest;
    expect(sourcesOf(ix, 't1.v1')).toEqual(['origin']);
    // a peer that gains the file shows up as a source in the next manifest
    const before = (await getManifest(ctx, a1)).body.version;
    await send(other, { files: ['t2.v1'] }); // another site: not a source
    expect((await getManifest(ctx, a1)).body.version).toBe(before);
    await send(a2, { files: [...T1, 't2.v1'] });
    const after = (await getManifest(ctx, a1)).body as FillManifest;
    expect(after.version).not.toBe(before);
    // a2 holds it now (the first fetcher is a1 or a2; a3 is stale): a2 as a holder, ix1 still not yet
    expect(sourcesOf(after, 't2.v1')).toEqual([a2.applianceId, ix1.applianceId, 'origin']);
    expect(after.files.find((f) => f.fileId === 't2.v1')!.notYet).toEqual([ix1.applianceId]);
    await send(a3);
  });

  it('the peer token is signed by the published key, for its own site and the IX sites of its region', async () => {
    const m = (await getManifest(ctx, a1)).body as FillManifest;
    const keys = await ctx.call('GET', '/v1/fill/peer-keys', { token: OPERATOR });
    expect(keys.body.publicKeys).toEqual(m.peer.publicKeys);
    expect(Object.keys(keys.body.publicKeys)).toContain(keys.body.activeKid);
    const nowSec = Math.floor(ctx.clock.t / 1000);
    const check = (siteId: string | null) => verifyPeerToken(m.peer.token, keys.body.publicKeys, { siteId, nowSec });
    expect(check('s1')).toMatchObject({ ok: true, payload: { sub: a1.applianceId, sites: ['s1', 'ix-eu'] } });
    expect(check('ix-eu').ok).toBe(true);
    expect(check(null).ok).toBe(true);
    expect(check('s2')).toEqual({ ok: false, reason: 'wrong-site' });
    expect(check('ix-us')).toEqual({ ok: false, reason: 'wrong-site' });
    const ix = (await getManifest(ctx, ix1)).body as FillManifest;
    expect(verifyPeerToken(ix.peer.token, keys.body.publicKeys, { siteId: 'ix-eu', nowSec })).toMatchObject({ ok: true, payload: { sites: ['ix-eu'] } });
    expect((await ctx.call('GET', '/v1/fill/peer-keys')).status).toBe(401);
  });

  it('a bad copy: that source is left out of that file for everyone, for badSourceTtlMs', async () => {
    const at = ctx.clock.t;
    const bad = fillReport({ badSources: [{ sourceId: a2.applianceId, fileId: 't1.v1', reason: 'sha256_mismatch', at }] });
    await send(a3, { fill: bad });
    const m = (await getManifest(ctx, a1)).body as FillManifest;
    expect(sourcesOf(m, 't1.v1')).toEqual([a3.applianceId, ix1.applianceId, 'origin']);
    expect(sourcesOf(m, 't1.a1')).toContain(a2.applianceId);
    // a timeout is not a bad copy: the appliance escalates past it by itself
    await send(a3, { fill: fillReport({ badSources: [{ sourceId: ix1.applianceId, fileId: 't1.v1', reason: 'timeout', at }] }) });
    expect(sourcesOf((await getManifest(ctx, a1)).body, 't1.v1')).toEqual([a3.applianceId, ix1.applianceId, 'origin']);
    // reports repeat their recent list; that does not extend the exclusion
    ctx.clock.t += 5 * 3600_000;
    for (const a of [a1, a2, ix1]) await send(a);
    await send(a3, { fill: bad });
    ctx.clock.t += 3600_000 + 1;
    for (const a of [a1, a2, a3, ix1]) await send(a);
    expect(sourcesOf((await getManifest(ctx, a1)).body, 't1.v1')).toContain(a2.applianceId);
  });

  const changes: Array<[string, () => Promise<unknown>, (m: FillManifest) => unknown, unknown]> = [
    ['fill now for the site', () => ctx.call('POST', '/v1/sites/s1/fill-now', { token: OPERATOR, body: { minutes: 90 } }), (m) => m.fillNowUntil, 'now+90min'],
    ['fill now for the appliance, later than the site', () => ctx.call('POST', `/v1/appliances/${a1.applianceId}/fill-now`, { token: OPERATOR, body: { minutes: 120 } }), (m) => m.fillNowUntil, 'now+120min'],
    ['the site fill rate', () => ctx.call('PUT', '/v1/sites/s1/fill', { token: OPERATOR, body: { rateLimitBps: 300e6 } }), (m) => m.rateLimitBps, 300e6],
    ['the peer serve rate', () => ctx.call('PUT', '/v1/sites/s1/fill', { token: OPERATOR, body: { peerServeRateBps: 2e9 } }), (m) => m.peerServeRateBps, 2e9],
    ['the rate back to the default', () => ctx.call('PUT', '/v1/sites/s1/fill', { token: OPERATOR, body: { rateLimitBps: null } }), (m) => m.rateLimitBps, 1.2e9],
    ['the site window and time zone', () => ctx.call('PUT', '/v1/sites/s1', { token: OPERATOR, body: { kind: 'embedded', region: 'eu', timeZone: 'Asia/Tokyo', fillWindow: { start: '01:00', end: '07:00' } } }),
      (m) => m.window, { timeZone: 'Asia/Tokyo', start: '01:00', end: '07:00' }],
  ];
  it.each(changes)('the version changes with %s', async (_name, change, field, want) => {
    const before = (await getManifest(ctx, a1)).body as FillManifest;
    const r = (await change()) as { status: number };
    expect(r.status).toBe(200);
    const reply = await send(a1);
    const after = (await getManifest(ctx, a1)).body as FillManifest;
    expect(reply.body.fillManifest).toBe(after.version);
    expect(after.version).not.toBe(before.version);
    const expected = typeof want === 'string' && want.startsWith('now+') ? ctx.clock.t + Number(/\d+/.exec(want)![0]) * 60_000 : want;
    expect(field(after)).toEqual(expected);
  });

  it('refuses bad operator input with the field named', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['PUT', '/v1/sites/s1/fill', { rateLimitBps: -1 }, 400, 'body.rateLimitBps'],
      ['PUT', '/v1/sites/s1/fill', { rate: 1 }, 400, 'body'],
      ['POST', '/v1/sites/s1/fill-now', { minutes: 'soon' }, 400, 'body.minutes'],
      ['POST', '/v1/sites/nope/fill-now', { minutes: 5 }, 404, 'no site nope'],
      ['POST', '/v1/appliances/nope/fill-now', { minutes: 5 }, 404, 'no appliance nope'],
      ['PUT', '/v1/sites/s9', { kind: 'embedded', region: 'eu', timeZone: 'Europe/Atlantis' }, 400, 'body.timeZone: unknown IANA time zone'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const r = await ctx.call(method, path, { token: OPERATOR, body });
      expect([path, r.status]).toEqual([path, status]);
      expect(r.body.error.message).toContain(message);
    }
  });

  it('status: per site its window (open or not, in its time zone) and rates; per appliance plan, holdings and fill report', async () => {
    await ctx.call('POST', '/v1/sites/s2/fill-now', { token: OPERATOR, body: { minutes: 0 } });
    await send(a2, { fill: fillReport({ active: true, wantedFiles: 4, wantedBytes: 4000, heldBytes: 3000, bytesBySource: { peer: 10, tier: 0, origin: 5 } }) });
    await plan();
    const s = (await ctx.call('GET', '/v1/fill/status', { token: OPERATOR })).body;
    expect(s.plan).toMatchObject({ trigger: 'operator', stats: { appliances: 5 } });
    const s2 = s.sites.find((x: { siteId: string }) => x.siteId === 's2');
    // the test clock has moved from 08:00 to just past 14:00 in London (UTC in January): closed until 02:00
    expect(new Date(s.now).toISOString()).toBe('2027-01-15T14:00:31.001Z');
    expect(s2).toMatchObject({
      kind: 'embedded', region: 'eu', window: { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, rateLimitBps: 1.2e9,
      windowState: { open: false, forced: false, opensAt: Date.parse('2027-01-16T02:00:00Z'), closesAt: null },
    });
    const s1 = s.sites.find((x: { siteId: string }) => x.siteId === 's1');
    // s1 moved to Tokyo, 01:00–07:00: 23:00 there, so closed, but forced open by the operator
    expect(s1.windowState).toMatchObject({ open: true, forced: true });
    const row = s1.appliances.find((x: { applianceId: string }) => x.applianceId === a2.applianceId);
    expect(row).toMatchObject({
      state: 'healthy', planned: true, plannedFiles: 4, plannedBytes: 4000, heldFiles: 3, heldBytes: 3000,
      report: { active: true, wantedBytes: 4000, bytesBySource: { peer: 10, tier: 0, origin: 5 } },
    });
    expect(row.manifestVersion).toMatch(/^[0-9a-f]{32}$/);
    const far = s.sites.find((x: { siteId: string }) => x.siteId === 'ix-us').appliances[0];
    expect([far.planned, far.manifestVersion]).toEqual([false, null]);
  });

  it('steering lists an appliance only once it holds the title: being planned is not enough', async () => {
    const steerTo = async () => (await ctx.call('GET', '/v1/steering?ip=10.1.1.1&titleId=t2&region=eu', { token: OPERATOR })).body.targets.map((t: { applianceId?: string }) => t.applianceId ?? 'origin');
    const m = (await getManifest(ctx, a1)).body as FillManifest;
    expect(m.files.map((f) => f.fileId)).toContain('t2.v1');
    expect(await steerTo()).toEqual(['origin']);
    await send(a1, { files: ['t2.v1'] });
    expect(await steerTo()).toEqual(['origin']);
    await send(a1, { files: ['t2.v1', 't2.a1'] });
    expect(await steerTo()).toEqual([a1.applianceId, 'origin']);
  });

  it('plans show in the metrics', async () => {
    const text = (await ctx.call('GET', '/metrics')).text;
    expect(text).toMatch(/edgebox_control_fill_plans_total\{trigger="operator"\} [1-9]/);
    expect(text).toMatch(/edgebox_control_fill_plan\{figure="copies"\} [1-9]/);
    expect(text).toMatch(/edgebox_control_fill_manifests_total\{result="not_modified"\} [1-9]/);
  });
});
