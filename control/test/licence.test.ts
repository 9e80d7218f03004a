import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVault } from '../src/licence/key-vault.ts';
import { addAccount, addTitle, KEK, kidOf, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

describe('ClearKey licences scoped to the session', () => {
  let ctx: Ctx, dir: string;
  const t1 = titleRecord('t1'), t2 = titleRecord('t2');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgebox-control-'));
    ctx = await startTestControl({ dbPath: join(dir, 'control.db') });
    await addTitle(ctx, t1);
    await addTitle(ctx, t2);
  });
  afterAll(async () => {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const acc = await addAccount(ctx, 'premium');
    const r = await ctx.call('POST', '/v1/playback', { token: acc.token, body: { titleId: 't1', profileId: acc.profileId, device: 'tv' } });
    return { acc, sid: r.body.sessionId as string, licensePath: new URL(r.body.licenseUrl).pathname + new URL(r.body.licenseUrl).search };
  };

  it('returns the session title\'s keys in W3C ClearKey form', async () => {
    const { licensePath } = await start();
    const r = await ctx.call('POST', licensePath, { body: { kids: [b64(kidOf('t1', 1)), b64(kidOf('t1', 2))], type: 'temporary' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      type: 'temporary',
      keys: t1.keys.map((k) => ({ kty: 'oct', kid: b64(k.kid), k: b64(k.key) })),
    });
  });

  it('accepts the request as application/octet-stream, and answers CORS preflights', async () => {
    const { licensePath } = await start();
    const res = await fetch(ctx.url + licensePath, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' },
      body: JSON.stringify({ kids: [b64(kidOf('t1', 1))], type: 'temporary' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await res.json()) as { keys: Array<{ k: string }> }).keys[0].k).toBe(b64(t1.keys[0].key));
    // shaka-player sends the licence message with no Content-Type at all.
    const untyped = await fetch(ctx.url + licensePath, {
      method: 'POST', body: new Blob([JSON.stringify({ kids: [b64(kidOf('t1', 1))], type: 'temporary' })]),
    });
    expect(untyped.status).toBe(200);
    expect(((await untyped.json()) as { keys: Array<{ k: string }> }).keys[0].k).toBe(b64(t1.keys[0].key));
    const pre = await fetch(ctx.url + licensePath, { method: 'OPTIONS', headers: { origin: 'http://player.test', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('denies another title\'s key id, even mixed with its own', async () => {
    const { licensePath } = await start();
    const r = await ctx.call('POST', licensePath, { body: { kids: [b64(kidOf('t1', 1)), b64(kidOf('t2', 1))], type: 'temporary' } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('kid_not_in_session');
    expect(r.text).not.toContain(b64(t2.keys[0].key));
    expect(r.text).not.toContain(b64(t1.keys[0].key));
  });

  it('denies an ended session and a timed-out one', async () => {
    const ended = await start();
    await ctx.call('DELETE', `/v1/playback/${ended.sid}`, { token: ended.acc.token });
    const r1 = await ctx.call('POST', ended.licensePath, { body: { kids: [b64(kidOf('t1', 1))], type: 'temporary' } });
    expect([r1.status, r1.body.error.code]).toEqual([403, 'session_not_live']);
    const silent = await start();
    ctx.clock.t += 180_001;
    const r2 = await ctx.call('POST', silent.licensePath, { body: { kids: [b64(kidOf('t1', 1))], type: 'temporary' } });
    expect([r2.status, r2.body.error.code]).toEqual([403, 'session_not_live']);
  });

  it('refuses requests without a session, with an unknown session, or malformed', async () => {
    const body = { kids: [b64(kidOf('t1', 1))], type: 'temporary' };
    expect((await ctx.call('POST', '/v1/license', { body })).status).toBe(401);
    expect((await ctx.call('POST', '/v1/license?session=nope', { body })).status).toBe(404);
    const { licensePath } = await start();
    expect((await ctx.call('POST', licensePath, { body: { kids: ['not base64url!'] } })).status).toBe(400);
    expect((await ctx.call('POST', licensePath.replace('/v1/license', '/v1/license/widevine'), { body })).status).toBe(404);
  });

  it('counts licences in metrics', async () => {
    const m = await ctx.call('GET', '/metrics');
    expect(m.text).toMatch(/edgebox_control_licences_total\{system="clearkey",result="issued"\} 3/);
    expect(m.text).toMatch(/edgebox_control_licences_total\{system="clearkey",result="denied"\} [1-9]/);
    expect(m.text).toContain('edgebox_control_steering_misses_total{cause="no-route"}');
  });

  it('stores title keys sealed with AES-256-GCM under the KEK, bound to their title and kid', async () => {
    const db = new Database(join(dir, 'control.db'), { readonly: true });
    const rows = db.prepare('SELECT kid, title_id, key_sealed FROM title_keys').all() as Array<{ kid: string; title_id: string; key_sealed: Buffer }>;
    db.close();
    expect(rows).toHaveLength(4);
    const vault = new KeyVault(KEK);
    for (const row of rows) {
      const clear = [...t1.keys, ...t2.keys].find((k) => k.kid === row.kid)!.key;
      expect(row.key_sealed.toString('hex')).not.toContain(clear);
      expect(vault.open(row.title_id, row.kid, row.key_sealed).toString('hex')).toBe(clear);
      expect(() => vault.open('other', row.kid, row.key_sealed)).toThrow();
      expect(() => new KeyVault('cd'.repeat(32)).open(row.title_id, row.kid, row.key_sealed)).toThrow();
    }
  });
});
