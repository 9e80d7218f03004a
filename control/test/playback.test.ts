import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, addSite, addTitle, enroll, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';
import { eachStore } from './postgres.ts';

const LOOPBACK_ROUTES = [{ prefix: '127.0.0.0/8', asPathLength: 1 }, { prefix: '::1/128', asPathLength: 1 }];
const FILES = ['t1.v1', 't1.a1'];

const stores = eachStore();
afterAll(() => stores.stop());

describe.each(stores.list)('playback (%s)', (_store, overrides) => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startTestControl(await overrides());
    await addSite(ctx, 's1');
    await addSite(ctx, 'ix1', 'ix');
    const box1 = await enroll(ctx, 's1', 'box1');
    const box2 = await enroll(ctx, 's1', 'box2');
    const ix = await enroll(ctx, 'ix1', 'ixbox');
    await sendReport(ctx, box1, { files: FILES, routes: LOOPBACK_ROUTES, egress: 1e9 });
    await sendReport(ctx, box2, { files: FILES, routes: LOOPBACK_ROUTES, egress: 5e9 });
    await sendReport(ctx, ix, { files: FILES, routes: [] });
    await addTitle(ctx, titleRecord('t1'));
    await addTitle(ctx, titleRecord('t2', ['us']));
  });
  afterAll(() => ctx.close());

  const play = (token: string, profileId: string, device: string, titleId = 't1') =>
    ctx.call('POST', '/v1/playback', { token, body: { titleId, profileId, device } });

  it('answers a session with ranked base URLs in DASH and redundant variants in HLS', async () => {
    const acc = await addAccount(ctx, 'premium');
    const r = await play(acc.token, acc.profileId, 'tv');
    expect(r.status).toBe(201);
    // written by hand with its manifests escaped ahead: the bytes JSON.stringify gives, key order included
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.text).toBe(JSON.stringify(r.body));
    expect(Object.keys(r.body)).toEqual(['sessionId', 'titleId', 'resumePositionMs', 'expiresAt', 'licenseUrl', 'heartbeatUrl', 'heartbeatTtlMs', 'targets', 'dash', 'hls']);
    expect(r.body.targets.map((t: { tier: string; baseUrl: string }) => [t.tier, new URL(t.baseUrl).host])).toEqual([
      ['local', 'box1.test:8081'], ['local', 'box2.test:8081'], ['fallback', 'ixbox.test:8081'], ['origin', 'origin.test:8090'],
    ]);
    const bases = [...r.body.dash.mpd.matchAll(/<BaseURL>([^<]+)<\/BaseURL>/g)].map((m) => m[1]);
    expect(bases.slice(0, 4)).toEqual(r.body.targets.map((t: { baseUrl: string }) => t.baseUrl));
    expect(bases[0]).toMatch(/^http:\/\/box1\.test:8081\/v1\/t\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\/f\/$/);
    expect(r.body.dash.mpd).toContain(`/v1/license?session=${r.body.sessionId}</clearkey:Laurl>`);
    expect(r.body.licenseUrl).toBe(`${ctx.url}/v1/license?session=${r.body.sessionId}`);

    const master = r.body.hls.master as string;
    expect(master.match(/#EXT-X-STREAM-INF/g)).toHaveLength(4);
    expect(master).toContain('AUDIO="aud-r1"');
    expect(master).toContain('GROUP-ID="aud-r3"');
    const served = await ctx.call('GET', new URL(r.body.hls.url).pathname);
    expect(served.text).toBe(master);
    const mediaUrl = master.split('\n').find((l) => l.includes('/hls/1/t1.v1.m3u8'))!;
    const media = await ctx.call('GET', new URL(mediaUrl).pathname);
    expect(media.status).toBe(200);
    expect(media.text).toContain(`${r.body.targets[1].baseUrl}t1.v1`);
    expect(media.text).toContain(`URI="${r.body.licenseUrl}"`);
    const mpd = await ctx.call('GET', new URL(r.body.dash.url).pathname);
    expect(mpd.text).toBe(r.body.dash.mpd);
    await ctx.call('DELETE', `/v1/playback/${r.body.sessionId}`, { token: acc.token });
    expect((await ctx.call('GET', new URL(r.body.dash.url).pathname)).status).toBe(403);
  });

  it.each([['basic', 1, 5], ['standard', 2, 6], ['premium', 4, 9]] as const)(
    'simultaneous starts on a %s account never exceed %i streams', async (plan, limit, tries) => {
      const acc = await addAccount(ctx, plan);
      const results = await Promise.all(Array.from({ length: tries }, (_, i) => play(acc.token, acc.profileId, `dev-${i}`)));
      const ok = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status === 429);
      expect(ok).toHaveLength(limit);
      expect(refused).toHaveLength(tries - limit);
      const streaming = ok.map((r) => JSON.parse(r.text).sessionId).length;
      expect(streaming).toBe(limit);
      expect(refused[0].body.error.code).toBe('stream_limit');
      expect(refused[0].body.error.devices).toHaveLength(limit);
      for (const d of refused[0].body.error.devices) expect(refused[0].body.error.message).toContain(d);
    });

  it('heartbeats keep the slot; silence past the TTL frees it; DELETE frees it', async () => {
    const acc = await addAccount(ctx, 'basic');
    const first = await play(acc.token, acc.profileId, 'phone');
    expect(first.status).toBe(201);
    const sid = first.body.sessionId;
    ctx.clock.t += 170_000;
    expect((await ctx.call('PUT', `/v1/playback/${sid}/heartbeat`, { token: acc.token, body: { positionMs: 42_000, bitrateKbps: 3000, bufferMs: 8000 } })).status).toBe(200);
    ctx.clock.t += 170_000;
    const blocked = await play(acc.token, acc.profileId, 'tablet');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.devices).toEqual(['phone']);
    ctx.clock.t += 10_001;
    const after = await play(acc.token, acc.profileId, 'tablet');
    expect(after.status).toBe(201);
    expect(after.body.resumePositionMs).toBe(42_000);
    expect((await ctx.call('PUT', `/v1/playback/${sid}/heartbeat`, { token: acc.token, body: { positionMs: 1, bitrateKbps: 1, bufferMs: 1 } })).status).toBe(410);
    expect((await ctx.call('DELETE', `/v1/playback/${after.body.sessionId}`, { token: acc.token })).status).toBe(204);
    expect((await play(acc.token, acc.profileId, 'laptop')).status).toBe(201);
  });

  it('a title no local box holds is a content miss, counted in metrics', async () => {
    await addTitle(ctx, titleRecord('t3'));
    const count = async () => Number(/edgebox_control_steering_misses_total\{cause="content"\} (\d+)/.exec((await ctx.call('GET', '/metrics')).text)![1]);
    const before = await count();
    const acc = await addAccount(ctx, 'premium');
    const r = await play(acc.token, acc.profileId, 'tv', 't3');
    expect(r.body.targets.map((t: { tier: string }) => t.tier)).toEqual(['origin']);
    expect(await count()).toBe(before + 1);
  });

  it('refuses with the right status', async () => {
    const acc = await addAccount(ctx, 'premium');
    const other = await addAccount(ctx, 'premium');
    const suspended = await addAccount(ctx, 'premium', 'eu', 'suspended');
    const cases: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
      ['no token', ctx.call('POST', '/v1/playback', { body: { titleId: 't1', profileId: acc.profileId, device: 'x' } }), 401, 'unauthenticated'],
      ['unknown token', play('not-a-real-token', acc.profileId, 'x'), 401, 'unauthenticated'],
      ['malformed header', ctx.call('POST', '/v1/playback', { headers: { authorization: 'Basic abc' }, body: {} }), 401, 'unauthenticated'],
      ['another account\'s profile', play(other.token, acc.profileId, 'x'), 403, 'forbidden'],
      ['suspended account', play(suspended.token, suspended.profileId, 'x'), 403, 'not_entitled'],
      ['title not in region', play(acc.token, acc.profileId, 'x', 't2'), 403, 'not_in_region'],
      ['unknown title', play(acc.token, acc.profileId, 'x', 'nope'), 404, 'title_not_found'],
      ['unknown profile', play(acc.token, 'prf-nope', 'x'), 404, 'profile_not_found'],
      ['bad body', ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1' } }), 400, 'bad_request'],
    ];
    for (const [name, p, status, code] of cases) {
      const r = await p;
      expect([name, r.status, r.body?.error?.code]).toEqual([name, status, code]);
    }
    const s = await play(acc.token, acc.profileId, 'tv');
    const hb = { positionMs: 1, bitrateKbps: 1, bufferMs: 1 };
    expect((await ctx.call('PUT', `/v1/playback/${s.body.sessionId}/heartbeat`, { token: other.token, body: hb })).status).toBe(403);
    expect((await ctx.call('DELETE', `/v1/playback/${s.body.sessionId}`, { token: other.token })).status).toBe(403);
    expect((await ctx.call('PUT', '/v1/playback/nope/heartbeat', { token: acc.token, body: hb })).status).toBe(404);
  });
});
