import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../index.ts';

const keys = { k1: 'secret-one-0123456789', k2: 'secret-two-0123456789' };
const now = 1_800_000_000;
const base = { kid: 'k1', secret: keys.k1, exp: now + 60 };

describe('URL tokens', () => {
  const cases: Array<[string, string, { fileId: string; clientIp?: string; nowSec?: number }, string | true]> = [
    ['valid, file scope', signToken({ ...base, files: ['t1.v720'] }), { fileId: 't1.v720' }, true],
    ['valid, title scope', signToken({ ...base, title: 't1' }), { fileId: 't1.a_en' }, true],
    ['rotated key id', signToken({ ...base, kid: 'k2', secret: keys.k2, title: 't1' }), { fileId: 't1.v1' }, true],
    ['expired', signToken({ ...base, title: 't1' }), { fileId: 't1.v1', nowSec: now + 60 }, 'expired'],
    ['forged signature', signToken({ ...base, title: 't1' }).slice(0, -2) + 'AA', { fileId: 't1.v1' }, 'bad-signature'],
    ['signed with another secret', signToken({ ...base, secret: 'attacker-secret-xxxxxx', title: 't1' }), { fileId: 't1.v1' }, 'bad-signature'],
    ['unknown key id', signToken({ ...base, kid: 'k9', secret: keys.k1, title: 't1' }), { fileId: 't1.v1' }, 'unknown-key'],
    ['prototype key id', signToken({ ...base, kid: 'constructor', secret: keys.k1, title: 't1' }), { fileId: 't1.v1' }, 'unknown-key'],
    ['wrong file', signToken({ ...base, files: ['t1.v720'] }), { fileId: 't1.v1080' }, 'out-of-scope'],
    ['wrong title', signToken({ ...base, title: 't1' }), { fileId: 't2.v1' }, 'out-of-scope'],
    ['title prefix is not the title', signToken({ ...base, title: 't1' }), { fileId: 't10.v1' }, 'out-of-scope'],
    ['client inside prefix', signToken({ ...base, title: 't1', cidr: '192.0.2.0/24' }), { fileId: 't1.v1', clientIp: '192.0.2.77' }, true],
    ['mapped v4 client inside prefix', signToken({ ...base, title: 't1', cidr: '192.0.2.0/24' }), { fileId: 't1.v1', clientIp: '::ffff:192.0.2.77' }, true],
    ['client outside prefix', signToken({ ...base, title: 't1', cidr: '192.0.2.0/24' }), { fileId: 't1.v1', clientIp: '198.51.100.1' }, 'wrong-client'],
    ['v6 client inside prefix', signToken({ ...base, title: 't1', cidr: '2001:db8::/32' }), { fileId: 't1.v1', clientIp: '2001:db8:1::5' }, true],
    ['no client address', signToken({ ...base, title: 't1', cidr: '2001:db8::/32' }), { fileId: 't1.v1' }, 'wrong-client'],
    ['garbage', 'not-a-token', { fileId: 't1.v1' }, 'malformed'],
    ['empty', '', { fileId: 't1.v1' }, 'malformed'],
    ['huge', 'a'.repeat(10_000) + '.b', { fileId: 't1.v1' }, 'malformed'],
    ['payload not JSON', Buffer.from('{nope').toString('base64url') + '.' + 'A'.repeat(43), { fileId: 't1.v1' }, 'malformed'],
  ];
  for (const [name, token, req, want] of cases) {
    it(name, () => {
      const r = verifyToken(token, keys, { nowSec: now, ...req });
      if (want === true) expect(r).toMatchObject({ ok: true });
      else expect(r).toEqual({ ok: false, reason: want });
    });
  }

  it('refuses to sign without a scope or with a weak secret', () => {
    expect(() => signToken({ ...base })).toThrow(/scope/);
    expect(() => signToken({ ...base, secret: 'short', title: 't1' })).toThrow(/16/);
  });
});
