// What control hands the box over its report channel, with real processes (control and the
// appliance daemon): a URL-token key rotation under live playback sessions (sessions started
// before it keep working until their tokens expire, new ones carry the new kid, the old key is
// dropped afterwards), then an operator's credential rotation and revocation.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../protocol/index.ts';
import { freePort } from '../bgp/helpers/routers.ts';
import { addTitle, ENROLLMENT_TOKEN, startControlProcess, type ControlProc } from '../report/helpers/control-process.ts';
import { json, KID, rawGet, SECRET, sleep, startDaemon, type Daemon } from './harness.ts';

const TTL_SEC = 8;
const LEAD_MS = 1_500;
const SKEW_MS = 1_000;

let control: ControlProc;
let d: Daemon;
let applianceId: string;
let viewer: { token: string; profileId: string };

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** a playback session's URL token and its key id */
async function play(): Promise<{ token: string; kid: string; exp: number }> {
  const res = await fetch(`${control.url}/v1/playback`, {
    method: 'POST', headers: { authorization: `Bearer ${viewer.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ titleId: 't1', profileId: viewer.profileId, device: `d${Math.random()}` }),
  });
  const body = await res.json() as { targets: { baseUrl: string }[] };
  expect(res.status).toBe(201);
  const token = /\/v1\/t\/([^/]+)\/f\/$/.exec(body.targets[0].baseUrl)![1];
  const payload = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
  return { token, kid: payload.kid, exp: payload.exp };
}

const fetchWith = async (token: string) => {
  const r = await rawGet(d.port, `/v1/f/t1.v1?t=${token}`);
  return r.status;
};

beforeAll(async () => {
  control = await startControlProcess(mkdtempSync(join(tmpdir(), 'edgebox-ctl-')), await freePort('127.0.0.1'), 300, {
    urlTokenKid: KID, urlTokenSecret: SECRET, urlTokenTtlSec: TTL_SEC, urlTokenKeyLeadMs: LEAD_MS, urlTokenKeySkewMs: SKEW_MS,
    housekeepingIntervalMs: 0,
  });
  await control.op('PUT', '/v1/sites/lon-1', { kind: 'embedded', region: 'eu', timeZone: 'Europe/London' });
  await addTitle(control, 't1');
  const acc = (await control.op('POST', '/v1/accounts', { name: 'v', plan: 'premium', region: 'eu' })).body;
  const prf = (await control.op('POST', `/v1/accounts/${acc.accountId}/profiles`, { name: 'main' })).body;
  viewer = { token: acc.apiToken, profileId: prf.profileId };
  d = await startDaemon({
    files: [{ fileId: 't1.v1', bytes: 5000, tier: 'ssd' }],
    settings: { controlUrl: control.url, report: { enrollmentToken: ENROLLMENT_TOKEN, name: 'secrets-test', publicUrl: 'http://127.0.0.1:9' } },
  });
  applianceId = await until('the first report', async () => {
    const list = (await control.op('GET', '/v1/appliances')).body as { applianceId: string; name: string; lastReportAt: number | null }[];
    return list.find((x) => x.name === 'secrets-test' && x.lastReportAt !== null)?.applianceId;
  });
}, 60_000);

afterAll(async () => {
  expect(await d?.stop()).toBe(0);
  await control?.stop();
});

describe('URL-token key rotation under live sessions', () => {
  it('old sessions keep working until expiry, new ones use the new kid, the old key is dropped after', async () => {
    const before = await play();
    expect(before.kid).toBe(KID);
    expect(await fetchWith(before.token)).toBe(200);

    const rotated = (await control.op('POST', '/v1/url-token-keys/rotate')).body as { kid: string; activeFrom: number };
    expect(rotated.kid).not.toBe(KID);
    // published at once, signed with only after the lead: the box holds the key before any token uses it
    const keyFile = join(d.dir, 'state', 'url-token-keys.json');
    await until('the box to hold the new key', async () => {
      try { return Object.hasOwn(JSON.parse(readFileSync(keyFile, 'utf8')).keys, rotated.kid) ? true : undefined; } catch { return undefined; }
    });
    expect((await play()).kid).toBe(KID); // still inside the lead
    await until('control to sign with the new key', async () => ((await control.op('GET', '/v1/url-token-keys')).body.signing === rotated.kid ? true : undefined));

    const after = await play();
    expect(after.kid).toBe(rotated.kid);
    expect(await fetchWith(after.token)).toBe(200);
    expect(await fetchWith(before.token)).toBe(200); // the old session's token is still good

    // A token under the old key that outlives every real one: accepted while the old key is
    // published, refused as an unknown key once control drops it (after the old tokens' expiry).
    const lingering = signToken({ kid: KID, secret: SECRET, exp: Math.floor(Date.now() / 1000) + 3600, files: ['t1.v1'] });
    expect(await fetchWith(lingering)).toBe(200);
    await until('the old session token to expire', async () => ((await fetchWith(before.token)) === 403 ? true : undefined), 30_000);
    await until('the old key to be dropped at the box', async () => ((await fetchWith(lingering)) === 403 ? true : undefined), 30_000);
    const keys = JSON.parse(readFileSync(keyFile, 'utf8')).keys as Record<string, string>;
    expect(Object.keys(keys)).toEqual([rotated.kid]);
    // (the first new-key session's token has run out by now too: tokens live TTL_SEC) — a new one plays
    const later = await play();
    expect(later.kid).toBe(rotated.kid);
    expect(await fetchWith(later.token)).toBe(200);
    const health = await json(fetch(`${d.admin}/v1/health`));
    expect(health.reasons.join('; ')).not.toMatch(/token keys/);
  }, 60_000);
});

describe('appliance credentials', () => {
  const credFile = () => JSON.parse(readFileSync(join(d.dir, 'state', 'control-credential.json'), 'utf8')).credential as string;
  const report = (credential: string) => fetch(`${control.url}/v1/appliances/${applianceId}/report`, {
    method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: '{}',
  });

  it('an operator rotation reaches the box in band; the old credential stops working once the new one is used', async () => {
    const old = credFile();
    expect((await control.op('POST', `/v1/appliances/${applianceId}/credential/rotate`)).status).toBe(202);
    const next = await until('the box to store its new credential', async () => (credFile() !== old ? credFile() : undefined));
    await until('control to see the new one in use', async () => ((await report(old)).status === 401 ? true : undefined));
    // a body control refuses as malformed (400) proves the new credential authenticates
    expect((await report(next)).status).toBe(400);
    const seen = (await control.op('GET', `/v1/appliances/${applianceId}`)).body.lastReportAt as number;
    await until('reports to go on', async () => ((await control.op('GET', `/v1/appliances/${applianceId}`)).body.lastReportAt > seen ? true : undefined));
  });

  it('a revoked box gets 401 credential_revoked and says so in its health', async () => {
    const cred = credFile();
    expect((await control.op('POST', `/v1/appliances/${applianceId}/credential/revoke`)).status).toBe(200);
    const r = await report(cred);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('credential_revoked');
    const health = await until('the box to say so', async () => {
      const h = await json(fetch(`${d.admin}/v1/health`));
      return h.status === 'failing' && h.reasons.some((x: string) => /credential revoked/.test(x)) ? h : undefined;
    });
    expect(health.status).toBe('failing');
    expect((await control.op('GET', `/v1/appliances/${applianceId}`)).body.state).toBe('draining');
    expect((await control.op('POST', `/v1/appliances/${applianceId}/credential/revoke`)).status).toBe(404);
  });
});
