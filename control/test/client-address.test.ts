import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress, parsePrefix } from '../../protocol/index.ts';
import { clientAddress } from '../src/http/client-address.ts';
import { addAccount, addSite, addTitle, enroll, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';

const proxies = ['10.0.0.0/8', '2001:db8:ffff::/48'].map((p) => parsePrefix(p)!);
const who = (sock: string, xff?: string) => {
  const a = clientAddress(sock, xff, proxies);
  return a && formatAddress(a);
};

describe('client address', () => {
  it.each([
    ['untrusted peer: X-Forwarded-For ignored', '198.51.100.1', '203.0.113.9', '198.51.100.1'],
    ['trusted peer: the forwarded client', '10.1.1.1', '203.0.113.9', '203.0.113.9'],
    ['chain: rightmost untrusted hop wins over a spoofed left', '10.1.1.1', '1.2.3.4, 203.0.113.9, 10.2.2.2', '203.0.113.9'],
    ['trusted v6 proxy, mapped v4 socket forms', '::ffff:10.1.1.1', '2001:db8:1::7', '2001:db8:1::7'],
    ['trusted peer without header', '10.1.1.1', undefined, '10.1.1.1'],
    ['garbage in the chain stops at the last trusted address', '10.1.1.1', 'evil, nonsense', '10.1.1.1'],
  ])('%s', (_n, sock, xff, want) => {
    expect(who(sock, xff)).toBe(want);
  });

  describe('over HTTP', () => {
    let trusting: Ctx, plain: Ctx;
    const setup = async (ctx: Ctx) => {
      await addSite(ctx, 's1');
      const box = await enroll(ctx, 's1', 'box1');
      await sendReport(ctx, box, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '203.0.113.0/24', asPathLength: 1 }] });
      await addTitle(ctx, titleRecord('t1'));
      return addAccount(ctx, 'premium');
    };
    beforeAll(async () => {
      trusting = await startTestControl({ trustedProxies: ['127.0.0.0/8', '::1/128'] });
      plain = await startTestControl();
    });
    afterAll(async () => { await trusting.close(); await plain.close(); });

    it('steers by X-Forwarded-For only when the peer is a trusted proxy', async () => {
      const tiers = async (ctx: Ctx) => {
        const acc = await setup(ctx);
        const r = await ctx.call('POST', '/v1/playback', { token: acc.token, headers: { 'x-forwarded-for': '203.0.113.50' }, body: { titleId: 't1', profileId: acc.profileId, device: 'tv' } });
        return r.body.targets.map((t: { tier: string }) => t.tier);
      };
      expect(await tiers(trusting)).toEqual(['local', 'origin']);
      expect(await tiers(plain)).toEqual(['origin']);
    });
  });
});
