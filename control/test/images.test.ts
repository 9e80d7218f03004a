import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSite, enroll, OPERATOR, startTestControl } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

const TARGET = { version: '1.2.0', manifestUrl: 'http://bundles.test/1.2.0/manifest.json' };

describe('appliance image: per-site target version, update status, turn-up reports', () => {
  let ctx: Ctx;
  let a: Enrolled;
  let other: Enrolled;
  beforeAll(async () => {
    ctx = await startTestControl();
    await addSite(ctx, 's1');
    await addSite(ctx, 's2');
    a = await enroll(ctx, 's1', 'box-a');
    other = await enroll(ctx, 's2', 'box-b');
  });
  afterAll(() => ctx.close());

  const image = (e: Enrolled, token = e.credential) => ctx.call('GET', `/v1/appliances/${e.applianceId}/image`, { token });
  const status = (over: Record<string, unknown> = {}) => ({
    state: 'downloading', currentVersion: '1.1.0', slot: 'a', targetVersion: '1.2.0', reason: null, at: ctx.clock.t, ...over,
  });

  it('an appliance with no target stays where it is, and learns its site fill window', async () => {
    const r = await image(a);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ target: null, fillWindow: { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, fillNowUntil: null });
  });

  it('the operator sets a site target; only that site\'s appliances see it', async () => {
    const put = await ctx.call('PUT', '/v1/sites/s1/image', { token: OPERATOR, body: TARGET });
    expect(put.status).toBe(200);
    expect(put.body.target).toMatchObject(TARGET);
    expect((await image(a)).body.target).toEqual(TARGET);
    expect((await image(other)).body.target).toBeNull();
  });

  it.each([
    ['a version with a space', { ...TARGET, version: '1 2' }, 'body.version'],
    ['a manifest URL that is not a URL', { ...TARGET, manifestUrl: 'bundle' }, 'body.manifestUrl'],
  ])('refuses %s, naming the field', async (_name, body, field) => {
    const r = await ctx.call('PUT', '/v1/sites/s1/image', { token: OPERATOR, body });
    expect(r.status).toBe(400);
    expect(r.body.error.message.startsWith(field)).toBe(true);
  });

  it('refuses an unknown site, a missing operator token, and a credential of another appliance', async () => {
    expect((await ctx.call('PUT', '/v1/sites/nope/image', { token: OPERATOR, body: TARGET })).body.error.code).toBe('site_not_found');
    expect((await ctx.call('PUT', '/v1/sites/s1/image', { body: TARGET })).status).toBe(401);
    expect((await image(a, other.credential)).status).toBe(403);
    expect((await image(a, 'not-a-credential')).status).toBe(401);
  });

  it('records update statuses (latest and history), shown to the operator per site', async () => {
    for (const s of [status(), status({ state: 'staged' }), status({ state: 'rolled-back', currentVersion: '1.1.0', reason: 'not healthy within the deadline' })]) {
      const r = await ctx.call('POST', `/v1/appliances/${a.applianceId}/image-status`, { token: a.credential, body: s });
      expect(r.status).toBe(204);
    }
    const view = await ctx.call('GET', '/v1/sites/s1/image', { token: OPERATOR });
    const box = view.body.appliances.find((x: { applianceId: string }) => x.applianceId === a.applianceId);
    expect(box.status).toMatchObject({ state: 'rolled-back', reason: 'not healthy within the deadline' });
    expect(box.history.map((h: { state: string }) => h.state)).toEqual(['downloading', 'staged', 'rolled-back']);
  });

  it('a malformed status is a 400 naming the field and changes nothing', async () => {
    const r = await ctx.call('POST', `/v1/appliances/${a.applianceId}/image-status`, { token: a.credential, body: status({ state: 'exploded' }) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^body\.state/);
    const view = await ctx.call('GET', '/v1/sites/s1/image', { token: OPERATOR });
    expect(view.body.appliances[0].history).toHaveLength(3);
  });

  it('stores the turn-up result beside the update status', async () => {
    const report = {
      passed: false, version: '1.1.0', at: ctx.clock.t,
      checks: [{ name: 'interfaces', ok: true, detail: 'eno1 up' }, { name: 'bgp', ok: false, detail: 'not established' }],
    };
    expect((await ctx.call('POST', `/v1/appliances/${a.applianceId}/turnup`, { token: a.credential, body: report })).status).toBe(204);
    const view = await ctx.call('GET', '/v1/sites/s1/image', { token: OPERATOR });
    const box = view.body.appliances[0];
    expect(box.turnup).toMatchObject({ passed: false, checks: [{ name: 'interfaces', ok: true, waived: false }, { name: 'bgp', ok: false }] });
    expect(box.status.state).toBe('rolled-back');
  });

  it('clearing the target stops updates', async () => {
    await ctx.call('DELETE', '/v1/sites/s1/image', { token: OPERATOR });
    expect((await image(a)).body.target).toBeNull();
  });
  it('a revoked credential gets 401 credential_revoked here too, as on the report route', async () => {
    expect((await image(other)).status).toBe(200);
    expect((await ctx.call('POST', `/v1/appliances/${other.applianceId}/credential/revoke`, { token: OPERATOR })).status).toBeLessThan(300);
    const r = await image(other);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('credential_revoked');
  });
});
