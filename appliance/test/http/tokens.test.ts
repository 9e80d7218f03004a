// The URL-token table over HTTP, and "no existence leak": without a valid token, a file the box
// holds and one it does not get the same answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../protocol/index.ts';
import { KID, SECRET, startDaemon, type Daemon } from '../daemon/harness.ts';

let d: Daemon;
const HELD = 't1.v1';
const MISSING = 't1.nope';
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  d = await startDaemon({ files: [{ fileId: HELD, bytes: 4096, tier: 'ssd' }] });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

async function status(fileId: string, token: string | undefined, form: 'query' | 'path' = 'query') {
  const u =
    token === undefined
      ? `${d.origin}/v1/f/${fileId}`
      : form === 'query'
        ? `${d.origin}/v1/f/${fileId}?t=${token}`
        : `${d.origin}/v1/t/${token}/f/${fileId}`;
  const res = await fetch(u, { headers: { range: 'bytes=0-9' } });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body: res.status >= 400 ? JSON.parse(body.toString()) : body };
}

describe('URL tokens', () => {
  const base = { kid: KID, secret: SECRET };
  const table: [string, () => string | undefined, number, string?][] = [
    ['valid, title scope', () => signToken({ ...base, exp: now() + 60, title: 't1' }), 206],
    ['valid, file scope', () => signToken({ ...base, exp: now() + 60, files: [HELD, MISSING] }), 206],
    ['valid, client prefix holds 127.0.0.1', () => signToken({ ...base, exp: now() + 60, title: 't1', cidr: '127.0.0.0/8' }), 206],
    ['missing', () => undefined, 403, 'token missing'],
    ['expired', () => signToken({ ...base, exp: now() - 1, title: 't1' }), 403, 'token expired'],
    ['forged (other secret)', () => signToken({ kid: KID, secret: 'not-the-secret-xxxxxx', exp: now() + 60, title: 't1' }), 403, 'token bad-signature'],
    ['tampered payload', () => {
      const t = signToken({ ...base, exp: now() + 60, title: 't2' });
      const [, sig] = t.split('.');
      const body = Buffer.from(JSON.stringify({ v: 1, kid: KID, exp: now() + 60, title: 't1' })).toString('base64url');
      return `${body}.${sig}`;
    }, 403, 'token bad-signature'],
    ['unknown key id', () => signToken({ kid: 'k9', secret: SECRET, exp: now() + 60, title: 't1' }), 403, 'token unknown-key'],
    ['wrong scope (other title)', () => signToken({ ...base, exp: now() + 60, title: 't2' }), 403, 'token out-of-scope'],
    ['wrong scope (other files)', () => signToken({ ...base, exp: now() + 60, files: ['t1.other'] }), 403, 'token out-of-scope'],
    ['wrong client prefix', () => signToken({ ...base, exp: now() + 60, title: 't1', cidr: '203.0.113.0/24' }), 403, 'token wrong-client'],
    ['garbage', () => 'not-a-token', 403, 'token malformed'],
  ];

  for (const [name, make, want, message] of table) {
    it(`${name} → ${want}`, async () => {
      const token = make();
      for (const form of ['query', 'path'] as const) {
        if (form === 'path' && token === undefined) continue;
        const r = await status(HELD, token, form);
        expect(r.status, form).toBe(want);
        if (want === 206) expect((r.body as Buffer).equals(d.files.get(HELD)!.data.subarray(0, 10))).toBe(true);
        else expect(r.body.error).toEqual({ code: 'forbidden', message });
      }
      if (want === 403) {
        // no existence leak: a file the box does not hold gets exactly the same answer
        const other = await status(MISSING, token);
        expect(other.status).toBe(403);
        expect(other.body).toEqual((await status(HELD, token)).body);
      }
    });
  }

  it('a token cached as valid stops working once it expires', async () => {
    const token = signToken({ ...base, exp: now() + 2, title: 't1' });
    expect((await status(HELD, token)).status).toBe(206);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await status(HELD, token)).status).toBe(403);
  });

  it('with a valid token, a file the box does not hold is 404', async () => {
    expect((await status(MISSING, signToken({ ...base, exp: now() + 60, title: 't1' }))).status).toBe(404);
  });
});
