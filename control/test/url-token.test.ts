// A token minted by control must pass the appliance's check, which is protocol's verifyToken
// (the appliance's token gate is built on it; control may not import appliance code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../protocol/index.ts';
import { addAccount, addSite, addTitle, enroll, sendReport, startTestControl, titleRecord, URL_KEYS } from './helpers.ts';
import type { Ctx } from './helpers.ts';

/** What a player does with a DASH BaseURL and a Representation's relative BaseURL. */
function resolve(base: string, fileId: string): { token: string; fileId: string } {
  const m = /^\/v1\/t\/([^/]+)\/f\/([^/]+)$/.exec(new URL(fileId, base).pathname);
  if (!m) throw new Error(`not a token path: ${base}`);
  return { token: m[1], fileId: m[2] };
}

function tamper(token: string, at: number): string {
  const c = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + c + token.slice(at + 1);
}

describe('URL tokens in per-session manifests', () => {
  for (const binding of [false, true]) {
    describe(binding ? 'bound to the viewer\'s network' : 'unbound', () => {
      let ctx: Ctx, bases: string[], exp: number;
      beforeAll(async () => {
        ctx = await startTestControl({ tokenClientBinding: binding });
        await addSite(ctx, 's1');
        const box = await enroll(ctx, 's1', 'box1');
        await sendReport(ctx, box, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '127.0.0.0/8', asPathLength: 1 }] });
        await addTitle(ctx, titleRecord('t1'));
        await addTitle(ctx, titleRecord('t2'));
        const acc = await addAccount(ctx, 'basic');
        const r = await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'tv' } });
        bases = [...r.body.dash.mpd.matchAll(/<BaseURL>([^<]+)<\/BaseURL>/g)].map((m) => m[1]).filter((b: string) => b.endsWith('/f/'));
        exp = r.body.expiresAt;
      });
      afterAll(() => ctx.close());
      const nowSec = () => Math.floor(ctx.clock.t / 1000);

      it('is accepted for every file of the session, at every target', () => {
        expect(bases.length).toBe(2);
        for (const base of bases) {
          for (const f of ['t1.v1', 't1.a1']) {
            const { token, fileId } = resolve(base, f);
            expect(verifyToken(token, URL_KEYS, { fileId, clientIp: '127.0.0.1', nowSec: nowSec() })).toMatchObject({ ok: true, payload: { files: ['t1.v1', 't1.a1'] } });
          }
        }
      });

      it('is refused when tampered with, for another title, after expiry, or with an unknown key', () => {
        const { token } = resolve(bases[0], 't1.v1');
        const req = { fileId: 't1.v1', clientIp: '127.0.0.1', nowSec: nowSec() };
        expect(verifyToken(tamper(token, 5), URL_KEYS, req)).toMatchObject({ ok: false });
        expect(verifyToken(tamper(token, token.length - 3), URL_KEYS, req)).toEqual({ ok: false, reason: 'bad-signature' });
        const payload = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
        const widened = Buffer.from(JSON.stringify({ ...payload, files: ['t2.v1'] })).toString('base64url') + '.' + token.split('.')[1];
        expect(verifyToken(widened, URL_KEYS, { ...req, fileId: 't2.v1' })).toEqual({ ok: false, reason: 'bad-signature' });
        expect(verifyToken(token, URL_KEYS, { ...req, fileId: 't2.v1' })).toEqual({ ok: false, reason: 'out-of-scope' });
        expect(verifyToken(token, URL_KEYS, { ...req, nowSec: exp })).toEqual({ ok: false, reason: 'expired' });
        expect(verifyToken(token, { k2: URL_KEYS.k1 }, req)).toEqual({ ok: false, reason: 'unknown-key' });
      });

      it(binding ? 'binds to the viewer\'s /24' : 'does not bind to an address', () => {
        const { token } = resolve(bases[0], 't1.v1');
        const far = verifyToken(token, URL_KEYS, { fileId: 't1.v1', clientIp: '198.51.100.7', nowSec: nowSec() });
        const near = verifyToken(token, URL_KEYS, { fileId: 't1.v1', clientIp: '127.0.0.200', nowSec: nowSec() });
        expect(near.ok).toBe(true);
        expect(far).toEqual(binding ? { ok: false, reason: 'wrong-client' } : expect.objectContaining({ ok: true }));
      });
    });
  }
});
