// What control serves for its two pages (src/http/routes/ui.ts): the static pages and the players'
// scripts, the viewer's GET /v1/me and /v1/me/titles, and the operator's GET /v1/overview — each
// behind its own credential, on a real control with an injected clock.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';

const ROUTES = [{ prefix: '127.0.0.0/8', asPathLength: 1 }];

describe('control pages and the JSON they read', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startTestControl();
    await addSite(ctx, 's1');
    const box = await enroll(ctx, 's1', 'box1');
    await sendReport(ctx, box, { files: ['t1.v1', 't1.a1'], routes: ROUTES });
    await addTitle(ctx, titleRecord('t1'));
    await addTitle(ctx, titleRecord('t2', ['us']));
  });
  afterAll(() => ctx.close());

  it.each([
    ['/ui/player/', 'text/html', 'Edgebox · player'],
    ['/ui/status/', 'text/html', 'Edgebox · status'],
    ['/ui/player/player.js', 'javascript', 'window.edgebox'],
    ['/ui/vendor/shaka-player.compiled.js', 'javascript', 'shaka'],
    ['/ui/vendor/dash.all.min.js', 'javascript', 'dashjs'],
    ['/ui/vendor/hls.min.js', 'javascript', 'Hls'],
  ])('serves %s', async (path, type, text) => {
    const res = await fetch(ctx.url + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(type);
    expect(await res.text()).toContain(text);
  });

  it('sends / and the short names to the pages, and answers an unknown script with a JSON 404', async () => {
    for (const [from, to] of [['/', '/ui/player/'], ['/player', '/ui/player/'], ['/status', '/ui/status/']]) {
      const res = await fetch(ctx.url + from, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(to);
    }
    // nothing but the pages and the three scripts: no way out of either folder
    expect((await ctx.call('GET', '/ui/vendor/..%2F..%2Fsettings.ts')).status).toBe(404);
    expect((await ctx.call('GET', '/ui/..%2F..%2Fsettings.ts')).status).toBe(404);
    const unknown = await ctx.call('GET', '/ui/vendor/jquery.js');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('tells a signed-in viewer their account, profiles and the titles of their region', async () => {
    const acc = await addAccount(ctx, 'basic', 'eu');
    expect((await ctx.call('GET', '/v1/me')).status).toBe(401);
    expect((await ctx.call('GET', '/v1/me', { token: 'nobody' })).status).toBe(401);
    const me = await ctx.call('GET', '/v1/me', { token: acc.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ accountId: acc.accountId, plan: 'basic', region: 'eu', streamLimit: 1, profiles: [{ profileId: acc.profileId, name: 'main' }] });
    const titles = await ctx.call('GET', '/v1/me/titles', { token: acc.token });
    expect(titles.body.map((t: { titleId: string }) => t.titleId)).toEqual(['t1']);
  });

  it('shows the operator the site, appliances with prefixes, live sessions, misses and placement', async () => {
    expect((await ctx.call('GET', '/v1/overview')).status).toBe(401);
    const acc = await addAccount(ctx, 'premium', 'eu');
    const played = await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'tv-in-the-hall' } });
    expect(played.status).toBe(201);
    const ov = await ctx.call('GET', '/v1/overview', { token: OPERATOR });
    expect(ov.status).toBe(200);
    expect(ov.body.sites.map((s: { siteId: string }) => s.siteId)).toEqual(['s1']);
    expect(ov.body.appliances).toMatchObject([{ name: 'box1', siteId: 's1', state: 'healthy', prefixCount: 1, prefixes: ['127.0.0.0/8'], files: 2 }]);
    const box1 = ov.body.appliances[0].applianceId;
    expect(ov.body.sessions.live).toBe(1);
    expect(ov.body.sessions.list[0]).toMatchObject({ device: 'tv-in-the-hall', titleId: 't1', clientIp: '127.0.0.1' });
    expect(ov.body.sessions.list[0].targets[0]).toEqual({ applianceId: box1, tier: 'local' });
    expect(ov.body.counters.missesByCause).toEqual({ content: 0, health: 0, 'no-route': 0 });
    expect(ov.body.counters.steeringDecisions).toBeGreaterThan(0);
    expect(ov.body.titles.map((t: { titleId: string; placed: Array<{ applianceId: string; complete: boolean }> }) => [t.titleId, t.placed.map((p) => [p.applianceId, p.complete])]))
      .toEqual([['t1', [[box1, true]]], ['t2', []]]);
    // an ended session is no longer live
    await ctx.call('DELETE', `/v1/playback/${played.body.sessionId}`, { token: acc.token });
    expect((await ctx.call('GET', '/v1/overview', { token: OPERATOR })).body.sessions.live).toBe(0);
  });
});
