// What the planner is fed, end to end over HTTP: heartbeats make a title popular in the viewer's
// region, an operator's promotion fills a premiere before release, settings and keys persist.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePeerSigningKey, SettingsError, verifyPeerToken } from '../../protocol/index.ts';
import type { ApplianceReport } from '../../protocol/index.ts';
import { loadSettings } from '../src/settings.ts';
import { getManifest } from './fill-helpers.ts';
import { addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

// room for one 2000-byte title (two 1000-byte files) after the 10% headroom
const ONE_TITLE: ApplianceReport['tiers'] = [{ tier: 'hdd', usedBytes: 0, capacityBytes: 2300 }];

describe('demand: heartbeats and promotions decide what is filled', () => {
  let ctx: Ctx;
  let eu: Enrolled, us: Enrolled;
  const held = async (a: Enrolled) => {
    await ctx.call('POST', '/v1/fill/plan', { token: OPERATOR });
    await sendReport(ctx, a, { tiers: ONE_TITLE });
    return ((await getManifest(ctx, a)).body.files as Array<{ fileId: string; rank: number }>).map((f) => `${f.fileId}@${f.rank}`);
  };

  beforeAll(async () => {
    ctx = await startTestControl({ fillPlanSchedule: '' });
    await addSite(ctx, 's-eu');
    await addSite(ctx, 's-us', 'embedded', 'us');
    for (const t of ['t1', 't2', 't3']) await addTitle(ctx, titleRecord(t));
    eu = await enroll(ctx, 's-eu', 'eu1');
    us = await enroll(ctx, 's-us', 'us1');
    await sendReport(ctx, eu, { tiers: ONE_TITLE, files: [] });
    await sendReport(ctx, us, { tiers: ONE_TITLE, files: [] });
  });
  afterAll(() => ctx.close());

  it('without history or promotion, titles follow catalogue order', async () => {
    expect(await held(eu)).toEqual(['t1.v1@0', 't1.a1@1']);
    expect(await held(us)).toEqual(['t1.v1@0', 't1.a1@1']);
  });

  it('heartbeats make a title popular in the viewer account\'s region only', async () => {
    const viewer = await addAccount(ctx, 'premium', 'eu');
    const play = await ctx.call('POST', '/v1/playback', { token: viewer.token, body: { titleId: 't3', profileId: viewer.profileId, device: 'tv' } });
    expect(play.status).toBe(201);
    for (const position of [10_000, 20_000]) {
      ctx.clock.t += 10_000;
      const hb = await ctx.call('PUT', `/v1/playback/${play.body.sessionId}/heartbeat`, { token: viewer.token, body: { positionMs: position, bitrateKbps: 1000, bufferMs: 5000 } });
      expect(hb.status).toBe(200);
    }
    // 20 s at 1 Mb/s = 2.5 MB of a 1000-byte file: 2500 views each of video and audio (same bandwidth)
    const top = await ctx.call('GET', '/v1/fill/popularity?region=eu&limit=5', { token: OPERATOR });
    expect(top.body.files).toEqual([{ fileId: 't3.a1', views: expect.closeTo(2500, 1) }, { fileId: 't3.v1', views: expect.closeTo(2500, 1) }]);
    expect((await ctx.call('GET', '/v1/fill/popularity?region=us', { token: OPERATOR })).body.files).toEqual([]);
    // equal views: the title's files in manifest order
    expect(await held(eu)).toEqual(['t3.v1@0', 't3.a1@1']);
    expect(await held(us)).toEqual(['t1.v1@0', 't1.a1@1']);
  });

  it('a promotion fills a premiere before its release, in its regions only, until withdrawn', async () => {
    const releaseAt = new Date(ctx.clock.t + 3 * 86_400_000).toISOString();
    const put = await ctx.call('PUT', '/v1/titles/t2/promotion', { token: OPERATOR, body: { regions: ['us'], expectedViews: 1e6, releaseAt } });
    expect(put.body).toEqual({ titleId: 't2', regions: ['us'], expectedViews: 1e6, releaseAt: Date.parse(releaseAt) });
    expect((await ctx.call('GET', '/v1/titles/t2/promotion', { token: OPERATOR })).body.releaseAt).toBe(Date.parse(releaseAt));
    expect(await held(us)).toEqual(['t2.v1@0', 't2.a1@1']);
    expect(await held(eu)).toEqual(['t3.v1@0', 't3.a1@1']);
    expect((await ctx.call('DELETE', '/v1/titles/t2/promotion', { token: OPERATOR })).status).toBe(204);
    expect(await held(us)).toEqual(['t1.v1@0', 't1.a1@1']);
  });

  const refusals: Array<[string, string, string, unknown, number, string]> = [
    ['an unknown title', 'PUT', '/v1/titles/nope/promotion', { expectedViews: 1, releaseAt: 0 }, 404, 'title_not_found'],
    ['negative views', 'PUT', '/v1/titles/t1/promotion', { expectedViews: -1, releaseAt: 0 }, 400, 'bad_request'],
    ['a release date that is not one', 'PUT', '/v1/titles/t1/promotion', { expectedViews: 1, releaseAt: 'friday' }, 400, 'bad_request'],
    ['no promotion to remove', 'DELETE', '/v1/titles/t1/promotion', undefined, 404, 'promotion_not_found'],
    ['popularity without a region', 'GET', '/v1/fill/popularity', undefined, 400, 'bad_request'],
  ];
  it.each(refusals)('refuses %s', async (_name, method, path, body, status, code) => {
    const r = await ctx.call(method, path, { token: OPERATOR, body });
    expect([r.status, r.body.error.code]).toEqual([status, code]);
  });
});

describe('fill state across a restart, and the settings', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'edgebox-fill-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the peer signing key, promotions and site rates in the database', async () => {
    const dbPath = join(dir, 'control.db');
    const first = await startTestControl({ dbPath, fillPlanSchedule: '' });
    await addSite(first, 's1');
    await addTitle(first, titleRecord('t1'));
    await first.call('PUT', '/v1/titles/t1/promotion', { token: OPERATOR, body: { expectedViews: 10, releaseAt: 0 } });
    await first.call('PUT', '/v1/sites/s1/fill', { token: OPERATOR, body: { rateLimitBps: 5e8 } });
    const keys = (await first.call('GET', '/v1/fill/peer-keys', { token: OPERATOR })).body;
    await first.close();
    const second = await startTestControl({ dbPath, fillPlanSchedule: '' });
    try {
      expect((await second.call('GET', '/v1/fill/peer-keys', { token: OPERATOR })).body).toEqual(keys);
      expect((await second.call('GET', '/v1/titles/t1/promotion', { token: OPERATOR })).body.expectedViews).toBe(10);
      const status = (await second.call('GET', '/v1/fill/status', { token: OPERATOR })).body;
      expect(status.sites[0]).toMatchObject({ siteId: 's1', rateLimitBps: 5e8, overrides: { rateLimitBps: 5e8, peerServeRateBps: null } });
    } finally {
      await second.close();
    }
  });

  it('a configured signing key signs the tokens; the generated one stays published', async () => {
    const key = generatePeerSigningKey('ops1');
    const ctx = await startTestControl({ dbPath: join(dir, 'control.db'), fillPlanSchedule: '', peerSigningKey: key });
    try {
      await addSite(ctx, 's1');
      const a = await enroll(ctx, 's1', 'a');
      await sendReport(ctx, a, { tiers: ONE_TITLE, files: [] });
      await ctx.call('POST', '/v1/fill/plan', { token: OPERATOR });
      const keys = (await ctx.call('GET', '/v1/fill/peer-keys', { token: OPERATOR })).body;
      expect(keys.activeKid).toBe('ops1');
      expect(Object.keys(keys.publicKeys).sort()).toEqual(['ops1', 'p1']);
      const m = (await getManifest(ctx, a)).body;
      expect(verifyPeerToken(m.peer.token, { ops1: key.x }, { siteId: 's1', nowSec: Math.floor(ctx.clock.t / 1000) }).ok).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it('a peer\'s new file reaches a manifest no sooner than fillSourcesRefreshMs', async () => {
    const ctx = await startTestControl({ fillPlanSchedule: '', fillSourcesRefreshMs: 10_000 });
    try {
      await addSite(ctx, 's1');
      await addTitle(ctx, titleRecord('t1'));
      const a = await enroll(ctx, 's1', 'a'), b = await enroll(ctx, 's1', 'b');
      for (const x of [a, b]) await sendReport(ctx, x, { tiers: ONE_TITLE, files: [] });
      await ctx.call('POST', '/v1/fill/plan', { token: OPERATOR });
      const first = (await getManifest(ctx, a)).body;
      await sendReport(ctx, b, { tiers: ONE_TITLE, files: ['t1.v1'] });
      expect((await getManifest(ctx, a)).body.version).toBe(first.version);
      ctx.clock.t += 10_000;
      const later = (await getManifest(ctx, a)).body;
      expect(later.files.find((f: { fileId: string }) => f.fileId === 't1.v1').sources).toEqual([b.applianceId, 'origin']);
    } finally {
      await ctx.close();
    }
  });

  it('runs the planner at start and then on its node-cron schedule', async () => {
    const ctx = await startTestControl({ fillPlanSchedule: '* * * * * *' });
    try {
      // counted, not read from the last run: on a loaded machine the first tick may come before this GET
      expect((await ctx.call('GET', '/metrics')).text).toMatch(/edgebox_control_fill_plans_total\{trigger="start"\} 1\b/);
      let trigger = '';
      for (let i = 0; i < 100 && trigger !== 'schedule'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        trigger = (await ctx.call('GET', '/v1/fill/plan', { token: OPERATOR })).body.trigger;
      }
      expect(trigger).toBe('schedule');
      expect((await ctx.call('GET', '/metrics')).text).toMatch(/edgebox_control_fill_plans_total\{trigger="schedule"\} [1-9]/);
    } finally {
      await ctx.close();
    }
  });

  const bad: Array<[string, Record<string, unknown>, Record<string, string>, string]> = [
    ['a schedule that is not a cron expression', { fillPlanSchedule: 'hourly' }, {}, 'setting "fillPlanSchedule" (config file): not a cron expression'],
    ['a churn share above 1, from the environment', {}, { EDGEBOX_CONTROL_FILL_CHURN_FRACTION: '2' }, 'setting "fillChurnFraction" (env EDGEBOX_CONTROL_FILL_CHURN_FRACTION)'],
    ['a half-life of zero days', { popularityHalfLifeDays: 0 }, {}, 'setting "popularityHalfLifeDays"'],
    ['a signing key without its private half', { peerSigningKey: { kid: 'k', x: 'A'.repeat(43) } }, {}, 'setting "peerSigningKey.d"'],
  ];
  it.each(bad)('refuses %s, naming it', (_name, file, env, message) => {
    expect(() => loadSettings(file, env)).toThrow(SettingsError);
    expect(() => loadSettings(file, env)).toThrow(message);
  });

  it('defaults: hourly plan, 7-day half-life, 10% churn and headroom, 1.2 Gb/s fill, peers unlimited', () => {
    expect(loadSettings({}, {})).toMatchObject({
      fillPlanSchedule: '0 * * * *', popularityHalfLifeDays: 7, fillChurnFraction: 0.1, fillHeadroom: 0.1,
      fillRateBps: 1.2e9, peerServeRateBps: 0, fillPeerMs: 60_000, fillTierMs: 120_000, fillAllowOrigin: true,
    });
  });
});
