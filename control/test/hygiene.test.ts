// Control over HTTP with an injected clock: steering learns throughput from heartbeats, counts
// degraded decisions, the steering probe's 404, the housekeeping job's pruning, and the URL-token
// key ring's rotation with overlap.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord, URL_KEYS } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

const ROUTES = [{ prefix: '127.0.0.0/8', asPathLength: 1 }, { prefix: '::1/128', asPathLength: 1 }];
const FILES = ['t1.v1', 't1.a1'];
const tokenKid = (baseUrl: string) => JSON.parse(Buffer.from(/\/v1\/t\/([^.]+)\./.exec(baseUrl)![1], 'base64url').toString()).kid as string;
const metric = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(line + ' '))?.split(' ')[1] ?? NaN);

describe('steering learns from heartbeats', () => {
  let ctx: Ctx, box1: Enrolled, box2: Enrolled;
  const report = () => Promise.all([box1, box2].map((b) => sendReport(ctx, b, { files: FILES, routes: ROUTES })));
  beforeAll(async () => {
    ctx = await startTestControl({ throughputDwellMs: 300_000, throughputMinEvidenceMs: 60_000, topK: 2, fallbackK: 0 });
    await addSite(ctx, 's1');
    box1 = await enroll(ctx, 's1', 'box1');
    box2 = await enroll(ctx, 's1', 'box2');
    await report();
    await addTitle(ctx, titleRecord('t1'));
  });
  afterAll(() => ctx.close());

  it('a box that starves the viewers\' prefix drops below its sibling; the change is counted and held for the dwell', async () => {
    const acc = await addAccount(ctx, 'premium');
    const probe = async () => (await ctx.call('GET', '/v1/steering?ip=127.0.0.1&titleId=t1', { token: OPERATOR })).body.targets.slice(0, 2).map((t: { applianceId?: string }) => t.applianceId);
    const [first, second] = await probe();
    // two viewers in 127.0.0.0/24: the first box's crawls at 600 kb/s with a draining buffer, the second plays 4 Mb/s with a full one
    const s1 = (await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'a' } })).body.sessionId;
    const s2 = (await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'b' } })).body.sessionId;
    let pos = 0, buf1 = 8_000;
    for (let i = 1; i <= 9; i++) {
      ctx.clock.t += 10_000;
      pos += 10_000;
      buf1 = Math.max(0, buf1 - 1_000);
      await report(); // keep the boxes fresh on the injected clock
      expect((await ctx.call('PUT', `/v1/playback/${s1}/heartbeat`, { token: acc.token, body: { positionMs: Math.round(pos - 4_000 * i / 9), bitrateKbps: 800, bufferMs: buf1, applianceId: first } })).status).toBe(200);
      expect((await ctx.call('PUT', `/v1/playback/${s2}/heartbeat`, { token: acc.token, body: { positionMs: pos, bitrateKbps: 4_000, bufferMs: 30_000, applianceId: second } })).status).toBe(200);
    }
    expect(await probe()).toEqual([second, first]);
    // another /24 has no evidence: its order stands
    expect((await ctx.call('GET', '/v1/steering?ip=127.0.1.1&titleId=t1', { token: OPERATOR })).body.targets[0].applianceId).toBe(first);
    const m = (await ctx.call('GET', '/metrics')).text;
    expect(metric(m, 'edgebox_control_steering_throughput_changes_total{change="demoted"}')).toBe(1);

    // The starving box recovers at once, but its class may change only once the dwell has passed.
    for (let i = 0; i < 6; i++) {
      ctx.clock.t += 10_000;
      pos += 10_000;
      await report();
      await ctx.call('PUT', `/v1/playback/${s1}/heartbeat`, { token: acc.token, body: { positionMs: pos, bitrateKbps: 30_000, bufferMs: 30_000, applianceId: first } });
    }
    expect(await probe()).toEqual([second, first]);
    expect(metric((await ctx.call('GET', '/metrics')).text, 'edgebox_control_steering_throughput_changes_total{change="held"}')).toBeGreaterThan(0);
  });

  it('the steering probe answers an unknown title with 404, as playback does', async () => {
    const r = await ctx.call('GET', '/v1/steering?ip=127.0.0.1&titleId=nope', { token: OPERATOR });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('title_not_found');
  });

  it('decisions naming a degraded box are counted', async () => {
    const before = metric((await ctx.call('GET', '/metrics')).text, 'edgebox_control_steering_degraded_total');
    await sendReport(ctx, box2, { files: FILES, routes: ROUTES, health: { status: 'degraded', reasons: ['disk'] } });
    const acc = await addAccount(ctx, 'premium');
    const r = await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'c' } });
    expect(r.body.targets.map((t: { applianceId?: string }) => t.applianceId).slice(0, 2)).toEqual([box1.applianceId, box2.applianceId]);
    expect(metric((await ctx.call('GET', '/metrics')).text, 'edgebox_control_steering_degraded_total')).toBe(before + 1);
  });
});

describe('housekeeping', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startTestControl({ sessionRetentionMs: 3_600_000, housekeepingIntervalMs: 0 });
    await addSite(ctx, 's1');
    await addTitle(ctx, titleRecord('t1'));
  });
  afterAll(() => ctx.close());

  it('deletes sessions ended or lapsed longer than the retention ago, spent enrollment tokens too, and keeps the rest', async () => {
    const acc = await addAccount(ctx, 'premium');
    const start = async (device: string) => (await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device } })).body.sessionId as string;
    const ended = await start('ended');
    await ctx.call('DELETE', `/v1/playback/${ended}`, { token: acc.token });
    const lapsed = await start('lapsed');
    await enroll(ctx, 's1', 'spent'); // uses up its enrollment token
    ctx.clock.t += 3_600_000 + 1_000; // enrollment tokens keep whole seconds
    const live = await start('live');
    const run = (await ctx.call('POST', '/v1/housekeeping', { token: OPERATOR })).body;
    expect(run).toMatchObject({ sessions: 2, enrollmentTokens: 1, urlTokenKeys: [] });
    for (const [sid, status] of [[ended, 404], [lapsed, 404], [live, 200]] as const) {
      expect((await ctx.call('PUT', `/v1/playback/${sid}/heartbeat`, { token: acc.token, body: { positionMs: 0, bitrateKbps: 1, bufferMs: 0 } })).status).toBe(status);
    }
    expect((await ctx.call('GET', '/v1/housekeeping', { token: OPERATOR })).body.sessions).toBe(2);
    expect(metric((await ctx.call('GET', '/metrics')).text, 'edgebox_control_pruned_total{what="sessions"}')).toBe(2);
  });
});

describe('URL-token key ring', () => {
  let ctx: Ctx;
  const TTL = 600;
  beforeAll(async () => {
    ctx = await startTestControl({ urlTokenTtlSec: TTL, urlTokenKeyLeadMs: 30_000, urlTokenKeySkewMs: 5_000 });
    await addSite(ctx, 's1');
    await addTitle(ctx, titleRecord('t1'));
  });
  afterAll(() => ctx.close());

  it('publishes a new key at once, signs with it after the lead, and drops the old one after its last token expired', async () => {
    const box = await enroll(ctx, 's1', 'box');
    const keysAt = async () => (await sendReport(ctx, box, { files: FILES, routes: ROUTES })).body.tokenKeys?.keys as Record<string, string> | undefined;
    expect(await keysAt()).toEqual(URL_KEYS);
    expect(await keysAt()).toBeUndefined(); // the box holds the current version: nothing sent
    const acc = await addAccount(ctx, 'premium');
    const kidNow = async () => tokenKid((await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: `d${ctx.clock.t}` } })).body.targets[0].baseUrl);

    const { kid, activeFrom } = (await ctx.call('POST', '/v1/url-token-keys/rotate', { token: OPERATOR })).body;
    expect(activeFrom).toBe(ctx.clock.t + 30_000);
    expect(Object.keys((await keysAt())!).sort()).toEqual(['k1', kid].sort());
    expect(await kidNow()).toBe('k1');
    ctx.clock.t = activeFrom;
    expect(await kidNow()).toBe(kid);
    const ring = (await ctx.call('GET', '/v1/url-token-keys', { token: OPERATOR })).body;
    expect(ring.signing).toBe(kid);
    expect(ring.keys.find((k: { kid: string }) => k.kid === 'k1')).toMatchObject({ state: 'retired', droppedAt: activeFrom + TTL * 1000 + 5_000 });
    expect(JSON.stringify(ring)).not.toContain(URL_KEYS.k1); // no secrets to the operator

    ctx.clock.t = activeFrom + TTL * 1000 + 4_999;
    expect(await keysAt()).toBeUndefined(); // k1 still published
    ctx.clock.t += 1;
    expect(Object.keys((await keysAt())!)).toEqual([kid]);
    expect((await ctx.call('POST', '/v1/housekeeping', { token: OPERATOR })).body.urlTokenKeys).toEqual(['k1']);
    expect((await ctx.call('GET', '/v1/url-token-keys', { token: OPERATOR })).body.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  });
});
