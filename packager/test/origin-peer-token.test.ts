// The origin's fill path with control's peer keys (`npm run origin`, a real process): with both
// URL-token keys and peer public keys set, /v1/f/<fileId> takes a peer token (Bearer) or a URL
// token (?t=) and nothing else; with either kind of key missing it stays open as before.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePeerSigningKey, signPeerToken, signToken } from '../../protocol/index.ts';
import { runNode, startOrigin, type Started } from './helpers/processes.ts';

const FILE = 'po1.v1';
const BODY = randomBytes(64 * 1024);
const URL_KEYS = { k1: 'url-token-secret-0123456789' };
const key = generatePeerSigningKey('p1');
const stranger = generatePeerSigningKey('p1');
const nowSec = () => Math.floor(Date.now() / 1000);
const peer = (k = key, exp = nowSec() + 600) => signPeerToken(k, { exp, sub: 'app-1', sites: ['s1'] });
const url = (files = [FILE], exp = nowSec() + 600) => signToken({ kid: 'k1', secret: URL_KEYS.k1, exp, files });

let store: string;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'edgebox-origin-'));
  await writeFile(join(store, FILE), BODY);
});
afterAll(async () => { await rm(store, { recursive: true, force: true }); });

async function get(origin: Started, o: { bearer?: string; t?: string; range?: string; method?: string } = {}) {
  const headers: Record<string, string> = {};
  if (o.bearer !== undefined) headers.authorization = `Bearer ${o.bearer}`;
  if (o.range) headers.range = o.range;
  const res = await fetch(`${origin.url}/v1/f/${FILE}${o.t !== undefined ? `?t=${o.t}` : ''}`, { method: o.method ?? 'GET', headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(body.toString()) : undefined };
}

describe('origin keyed for viewers and peers', () => {
  let origin: Started;
  beforeAll(async () => {
    origin = await startOrigin(store, {
      EDGEBOX_ORIGIN_URL_TOKEN_KEYS: JSON.stringify(URL_KEYS), EDGEBOX_ORIGIN_PEER_PUBLIC_KEYS: JSON.stringify({ p1: key.x }),
    });
  });
  afterAll(async () => { await origin?.stop(); });

  it('serves a peer token holder the whole file and ranges of it', async () => {
    const whole = await get(origin, { bearer: peer() });
    expect(whole.status).toBe(200);
    expect(whole.body.equals(BODY)).toBe(true);
    const part = await get(origin, { bearer: peer(), range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.body.equals(BODY.subarray(100, 200))).toBe(true);
    expect((await get(origin, { bearer: peer(), method: 'HEAD' })).status).toBe(200);
  });

  const cases: Array<[string, () => { bearer?: string; t?: string }, number, string | null]> = [
    // name, credentials, status, error code
    ['a URL token for the file', () => ({ t: url() }), 200, null],
    ['a bad peer token next to a good URL token', () => ({ bearer: 'nope', t: url() }), 200, null],
    ['nothing', () => ({}), 401, 'credential_required'],
    ['a peer token signed by another key', () => ({ bearer: peer(stranger) }), 403, 'bad_token'],
    ['an expired peer token', () => ({ bearer: peer(key, nowSec() - 1) }), 403, 'bad_token'],
    ['garbage as a bearer', () => ({ bearer: 'not-a-token' }), 403, 'bad_token'],
    ['a URL token for another file', () => ({ t: url(['po1.a1']) }), 403, 'bad_token'],
    ['a viewer URL token presented as a bearer', () => ({ bearer: url() }), 403, 'bad_token'],
  ];
  it.each(cases)('%s', async (_name, creds, status, code) => {
    const r = await get(origin, creds());
    expect(r.status).toBe(status);
    if (code) expect(r.json.error.code).toBe(code);
    else expect(r.body.equals(BODY)).toBe(true);
  });

  it('the path-token form is unchanged', async () => {
    const res = await fetch(`${origin.url}/v1/t/${url()}/f/${FILE}`);
    expect(res.status).toBe(200);
  });
});

describe('origin left open', () => {
  const setups: Array<[string, Record<string, string>]> = [
    ['with URL-token keys only (as before peer keys)', { EDGEBOX_ORIGIN_URL_TOKEN_KEYS: JSON.stringify(URL_KEYS) }],
    ['with peer keys only (no URL-token keys)', { EDGEBOX_ORIGIN_PEER_PUBLIC_KEYS: JSON.stringify({ p1: key.x }) }],
  ];
  it.each(setups)('%s', async (_name, env) => {
    const origin = await startOrigin(store, env);
    try {
      const r = await get(origin);
      expect(r.status).toBe(200);
      expect(r.body.equals(BODY)).toBe(true);
    } finally {
      await origin.stop();
    }
  });

  it('a malformed peer key stops the origin, naming the setting', async () => {
    const r = await runNode(['packager/origin.ts'], { EDGEBOX_ORIGIN_PORT: '0', EDGEBOX_ORIGIN_STORE: store, EDGEBOX_ORIGIN_PEER_PUBLIC_KEYS: '{"p1":"short"}' });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('setting \\"peerPublicKeys.p1\\"');
  });
});
