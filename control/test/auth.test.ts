// Every credential check: missing, malformed, unknown, disabled, and right-credential-wrong-thing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, addSite, enroll, OPERATOR, PACKAGER, report, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

describe('authentication and authorisation failures', () => {
  let ctx: Ctx, a: Enrolled, b: Enrolled, viewer: string;
  beforeAll(async () => {
    ctx = await startTestControl();
    await addSite(ctx, 's1');
    a = await enroll(ctx, 's1', 'box-a');
    b = await enroll(ctx, 's1', 'box-b');
    viewer = (await addAccount(ctx, 'basic')).token;
  });
  afterAll(() => ctx.close());

  const rep = report({ seq: 1, bootId: 'x' });
  const cases: Array<[string, () => [string, string, { token?: string; body?: unknown; headers?: Record<string, string> }], number]> = [
    ['report without credential', () => ['POST', `/v1/appliances/${a.applianceId}/report`, { body: rep }], 401],
    ['report with unknown credential', () => ['POST', `/v1/appliances/${a.applianceId}/report`, { token: 'x'.repeat(43), body: rep }], 401],
    ['report with another appliance\'s credential', () => ['POST', `/v1/appliances/${a.applianceId}/report`, { token: b.credential, body: rep }], 403],
    ['report with the operator token', () => ['POST', `/v1/appliances/${a.applianceId}/report`, { token: OPERATOR, body: rep }], 401],
    ['report with a Basic header', () => ['POST', `/v1/appliances/${a.applianceId}/report`, { headers: { authorization: `Basic ${a.credential}` }, body: rep }], 401],
    ['enroll with an unknown token', () => ['POST', '/v1/appliances/enroll', { body: { enrollmentToken: 'u'.repeat(43), name: 'x', publicUrl: 'http://x.test' } }], 401],
    ['enroll with a credential instead of a token', () => ['POST', '/v1/appliances/enroll', { body: { enrollmentToken: a.credential, name: 'x', publicUrl: 'http://x.test' } }], 401],
    ['title registration without token', () => ['POST', '/v1/titles', { body: titleRecord('t9') }], 401],
    ['title registration with a wrong token', () => ['POST', '/v1/titles', { token: 'wrong-packager-token', body: titleRecord('t9') }], 401],
    ['title registration with the operator token', () => ['POST', '/v1/titles', { token: OPERATOR, body: titleRecord('t9') }], 401],
    ['operator read without token', () => ['GET', '/v1/appliances', {}], 401],
    ['operator read with the packager token', () => ['GET', '/v1/appliances', { token: PACKAGER }], 401],
    ['operator read with a viewer token', () => ['GET', '/v1/sites', { token: viewer }], 401],
    ['operator read with an appliance credential', () => ['GET', `/v1/appliances/${a.applianceId}`, { token: a.credential }], 401],
    ['enrollment token minting without token', () => ['POST', '/v1/enrollment-tokens', { body: { siteId: 's1' } }], 401],
    ['drain with a viewer token', () => ['PUT', `/v1/appliances/${a.applianceId}/drain`, { token: viewer, body: { drain: true } }], 401],
    ['account creation without token', () => ['POST', '/v1/accounts', { body: { name: 'x', plan: 'basic', region: 'eu' } }], 401],
    ['playback with the operator token', () => ['POST', '/v1/playback', { token: OPERATOR, body: { titleId: 't1', profileId: 'p', device: 'd' } }], 401],
    ['playback with an appliance credential', () => ['POST', '/v1/playback', { token: a.credential, body: { titleId: 't1', profileId: 'p', device: 'd' } }], 401],
    ['heartbeat without token', () => ['PUT', '/v1/playback/abc/heartbeat', { body: { positionMs: 0, bitrateKbps: 0, bufferMs: 0 } }], 401],
    ['stop without token', () => ['DELETE', '/v1/playback/abc', {}], 401],
    ['metrics stay readable', () => ['GET', '/metrics', {}], 200],
  ];
  it.each(cases)('%s', async (_name, make, status) => {
    const [method, path, o] = make();
    const r = await ctx.call(method, path, o);
    expect(r.status).toBe(status);
    if (status >= 400) expect(r.body.error.code).toBe(status === 401 ? 'unauthenticated' : 'forbidden');
  });

  it('an operator or packager API with no token configured is closed, not open', async () => {
    const closed = await startTestControl({ operatorToken: '', packagerToken: '' });
    try {
      expect((await closed.call('GET', '/v1/sites', { token: 'anything' })).status).toBe(401);
      const r = await closed.call('POST', '/v1/titles', { token: 'anything', body: titleRecord('t9') });
      expect([r.status, r.body.error.message]).toEqual([401, 'packager API is disabled (no packager token configured)']);
    } finally {
      await closed.close();
    }
  });

  it('a refused report changes nothing', async () => {
    await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, { token: b.credential, body: rep });
    expect((await ctx.call('GET', `/v1/appliances/${a.applianceId}`, { token: OPERATOR })).body.state).toBe('stale');
  });
});
