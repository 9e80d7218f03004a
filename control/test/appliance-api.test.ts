import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSite, enroll, OPERATOR, report, sendReport, startTestControl } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

describe('appliance enrollment and reports', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await startTestControl({ enrollmentTokens: [{ token: 'configured-enrollment-token-1', siteId: 's1' }] });
    await addSite(ctx, 's1');
    await addSite(ctx, 's2');
  });
  afterAll(() => ctx.close());

  it('refuses a site with an unknown time zone or kind, naming the field', async () => {
    const r = await ctx.call('PUT', '/v1/sites/s3', { token: OPERATOR, body: { kind: 'embedded', region: 'eu', timeZone: 'Mars/Olympus' } });
    expect([r.status, r.body.error.message]).toEqual([400, 'body.timeZone: unknown IANA time zone']);
    const k = await ctx.call('PUT', '/v1/sites/s3', { token: OPERATOR, body: { kind: 'cloud', region: 'eu', timeZone: 'UTC' } });
    expect(k.body.error.message).toMatch(/^body\.kind/);
    expect((await ctx.call('GET', '/v1/sites', { token: OPERATOR })).body.map((s: { siteId: string }) => s.siteId)).toEqual(['s1', 's2']);
  });

  it('an enrollment token works once and yields a credential', async () => {
    const t = await ctx.call('POST', '/v1/enrollment-tokens', { token: OPERATOR, body: { siteId: 's1' } });
    expect(t.status).toBe(201);
    const body = { enrollmentToken: t.body.enrollmentToken, name: 'box-a', publicUrl: 'http://box-a.test:8081/' };
    const first = await ctx.call('POST', '/v1/appliances/enroll', { body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ siteId: 's1', reportIntervalMs: 10_000 });
    expect(first.body.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await ctx.call('POST', '/v1/appliances/enroll', { body });
    expect(again.status).toBe(403);
    expect(again.body.error.code).toBe('enrollment_token_used');
    const view = await ctx.call('GET', `/v1/appliances/${first.body.applianceId}`, { token: OPERATOR });
    expect(view.body).toMatchObject({ siteId: 's1', publicUrl: 'http://box-a.test:8081', state: 'stale' });
  });

  it('config-created enrollment tokens work and are bound to their site', async () => {
    const wrong = await ctx.call('POST', '/v1/appliances/enroll', { body: { enrollmentToken: 'configured-enrollment-token-1', name: 'b', siteId: 's2', publicUrl: 'http://b.test' } });
    expect(wrong.status).toBe(403);
    const ok = await ctx.call('POST', '/v1/appliances/enroll', { body: { enrollmentToken: 'configured-enrollment-token-1', name: 'b', siteId: 's1', publicUrl: 'http://b.test' } });
    expect(ok.status).toBe(201);
  });

  it('expired enrollment tokens are refused', async () => {
    const t = await ctx.call('POST', '/v1/enrollment-tokens', { token: OPERATOR, body: { siteId: 's1' } });
    ctx.clock.t += 8 * 86400_000;
    const r = await ctx.call('POST', '/v1/appliances/enroll', { body: { enrollmentToken: t.body.enrollmentToken, name: 'late', publicUrl: 'http://late.test' } });
    ctx.clock.t -= 8 * 86400_000;
    expect(r.status).toBe(401);
  });

  describe('reports', () => {
    let a: Enrolled;
    beforeAll(async () => { a = await enroll(ctx, 's1', 'box-r'); });
    const state = async () => (await ctx.call('GET', `/v1/appliances/${a.applianceId}`, { token: OPERATOR })).body;

    it('the first report without inventory or prefixes asks for both', async () => {
      const r = await sendReport(ctx, a);
      // the first report names no URL-token key set, so the reply carries control's
      expect(r.body).toEqual({ ok: true, needInventory: true, needPrefixes: true, drain: false, tokenKeys: { version: expect.any(String), keys: { k1: expect.any(String) } } });
      expect((await state()).state).toBe('healthy');
    });

    it('full sets, then a delta against the right base, then a delta against an unknown base', async () => {
      expect((await sendReport(ctx, a, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '10.0.0.0/8', asPathLength: 1 }] })).body).toEqual({ ok: true, drain: false });
      const delta = await sendReport(ctx, a, { inventory: { kind: 'delta', baseHash: 'h-t1.v1,t1.a1', hash: 'h2', added: ['t2.v1'], removed: ['t1.a1'] }, prefixes: { hash: 'p-10.0.0.0/8' } });
      expect(delta.body).toEqual({ ok: true, drain: false });
      expect((await state()).files).toBe(2);
      const bad = await sendReport(ctx, a, { inventory: { kind: 'delta', baseHash: 'nope', hash: 'h3', added: [], removed: [] }, prefixes: { hash: 'changed' } });
      expect(bad.body).toEqual({ ok: true, needInventory: true, needPrefixes: true, drain: false });
      const pfx = await ctx.call('GET', `/v1/appliances/${a.applianceId}/prefixes`, { token: OPERATOR });
      expect(pfx.body.routes).toEqual([{ prefix: '10.0.0.0/8', asPathLength: 1 }]);
    });

    it('a replayed report (same boot, old seq) is ignored and changes nothing', async () => {
      await sendReport(ctx, a, { egress: 1e9 });
      const replay = report({ seq: a.seq, bootId: a.bootId, health: { status: 'failing', reasons: ['replayed'] } });
      const r = await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, { token: a.credential, body: replay });
      expect(r.body).toEqual({ ok: false, ignored: true });
      const older = report({ seq: a.seq - 1, bootId: a.bootId, health: { status: 'failing', reasons: ['late'] } });
      expect((await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, { token: a.credential, body: older })).body.ignored).toBe(true);
      expect((await state()).state).toBe('healthy');
    });

    it('a restart (new bootId, seq from 0) is accepted; a late report of the old boot is not', async () => {
      const oldBoot = a.bootId, oldSeq = a.seq;
      a.bootId = 'boot-2';
      a.seq = -1;
      expect((await sendReport(ctx, a, { files: [], routes: [] })).body.ok).toBe(true);
      const late = report({ seq: oldSeq + 5, bootId: oldBoot, health: { status: 'failing', reasons: [] } });
      expect((await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, { token: a.credential, body: late })).body).toEqual({ ok: false, ignored: true });
      expect((await state()).state).toBe('healthy');
    });

    it('no report for three intervals → stale (injected clock), a new report → healthy', async () => {
      ctx.clock.t += 30_000;
      expect((await state()).state).toBe('healthy');
      ctx.clock.t += 1;
      expect((await state()).state).toBe('stale');
      await sendReport(ctx, a);
      expect((await state()).state).toBe('healthy');
    });

    it('operator drain shows in state and is told to the appliance', async () => {
      const d = await ctx.call('PUT', `/v1/appliances/${a.applianceId}/drain`, { token: OPERATOR, body: { drain: true } });
      expect(d.body.state).toBe('draining');
      expect((await sendReport(ctx, a)).body.drain).toBe(true);
      await ctx.call('PUT', `/v1/appliances/${a.applianceId}/drain`, { token: OPERATOR, body: { drain: false } });
      expect((await state()).state).toBe('healthy');
      expect((await sendReport(ctx, a)).body.drain).toBe(false);
    });

    it('a malformed report is a 400 naming the field, and changes nothing', async () => {
      const r = await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, { token: a.credential, body: { ...report({ seq: a.seq + 1 }), load: { egressBps: -1 } } });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/^body\.load/);
    });
  });
});
