// HTTPS across the fleet (issue 11): an operator uploads a certificate for the serving hostname to
// control, which keeps its key sealed and hands it to an enrolled appliance over the report link
// (PEMs only while the box serves another); the appliance — a real daemon process started with no
// certificate at all — stores it and serves it; and manifests send viewers to the https:// URL
// the box reports. Control runs in process (its test harness, injected clock); the appliance and
// openssl are real.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startDaemon, type Daemon } from '../../appliance/test/daemon/harness.ts';
import { daysFromNow, makeTestCa, type Leaf, type TestCa } from '../../appliance/test/http/helpers/test-ca.ts';
import {
  addAccount, addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord, type Ctx,
} from '../../control/test/helpers.ts';

const HOST = 'localhost';
let ca: TestCa;
let dir: string;
let ctx: Ctx;
let leaf: Leaf;
let dbPath: string;

/** days from control's injected clock, which runs ahead of the real one (control/test/helpers.ts) */
const fromClock = (c: Ctx, days: number) => new Date(c.clock.t + days * 86_400_000);
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgebox-https-fleet-'));
  ca = makeTestCa(join(dir, 'ca'));
  dbPath = join(dir, 'control.db');
  ctx = await startTestControl({ dbPath });
  // valid now (for the appliance) and at control's clock
  leaf = ca.leaf('fleet', [HOST, '127.0.0.1'], daysFromNow(-1), fromClock(ctx, 120));
  await addSite(ctx, 'lon-1', 'embedded', 'eu');
  await addSite(ctx, 'ix-eu', 'ix', 'eu');
});
afterAll(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the upload route', () => {
  const upload = (body: unknown, token = OPERATOR) => ctx.call('POST', '/v1/tls/certificates', { token, body });

  it('refuses what is not a usable certificate and key, and non-operators', async () => {
    const other = ca.leaf('other', ['other.example'], daysFromNow(-1), fromClock(ctx, 30));
    const expired = ca.leaf('expired', [HOST], daysFromNow(-30), fromClock(ctx, -1));
    const cases: [string, unknown, number, string][] = [
      ['garbage certificate', { certPem: 'not a pem', keyPem: leaf.keyPem }, 400, 'bad_certificate'],
      ['key of another certificate', { certPem: leaf.certPem, keyPem: other.keyPem }, 400, 'bad_certificate'],
      ['expired', { certPem: expired.certPem, keyPem: expired.keyPem }, 400, 'certificate_expired'],
      ['no key', { certPem: leaf.certPem }, 400, 'bad_request'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await upload(body);
      expect([name, r.status, r.body.error.code]).toEqual([name, status, code]);
    }
    expect((await upload({ certPem: leaf.certPem, keyPem: leaf.keyPem }, 'not-the-operator')).status).toBe(401);
    expect((await ctx.call('GET', '/v1/tls/certificates', { token: OPERATOR })).body.certificates).toEqual([]);
  });

  it('stores a good one with its key sealed, and lists it without the key', async () => {
    const r = await upload({ certPem: leaf.certPem, keyPem: leaf.keyPem });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ fingerprint: fingerprint(leaf.certPem), hosts: [HOST, '127.0.0.1'] });
    const list = await ctx.call('GET', '/v1/tls/certificates', { token: OPERATOR });
    expect(list.body.certificates).toHaveLength(1);
    expect(list.text).not.toContain('PRIVATE KEY');
    // at rest: the key is not in the database file in the clear
    const db = new Database(dbPath, { readonly: true });
    const row = db.prepare('SELECT * FROM tls_certificates').get() as Record<string, unknown>;
    db.close();
    expect(Buffer.from(row.key_sealed as Buffer).toString('latin1')).not.toContain('PRIVATE KEY');
    expect(readFileSync(dbPath).toString('latin1')).not.toContain(leaf.keyPem.split('\n')[1]);
  });
});

describe('report replies and manifests', () => {
  it('offers the PEMs only to a box that serves another certificate for a hostname it names', async () => {
    const a = await enroll(ctx, 'lon-1', 'box1');
    const tls = (certificate: string | null, host = HOST) => ({ url: `https://${host}:8443`, certificate });
    const other = await sendReport(ctx, a, { tls: tls(null) });
    expect(other.body.tlsCertificate).toMatchObject({ fingerprint: fingerprint(leaf.certPem), certPem: leaf.certPem, keyPem: leaf.keyPem });
    const same = await sendReport(ctx, a, { tls: tls(fingerprint(leaf.certPem)) });
    expect(same.body.tlsCertificate).toEqual({ fingerprint: fingerprint(leaf.certPem) });
    expect((await sendReport(ctx, a, { tls: tls(null, 'edge.other.example') })).body.tlsCertificate).toBeUndefined();
    expect((await sendReport(ctx, a, {})).body.tlsCertificate).toBeUndefined();
  });

  it('writes https:// base URLs for a box that reports TLS, http:// for one that does not', async () => {
    await addTitle(ctx, titleRecord('tt1', ['eu']));
    // two boxes of the viewer's site (their routes cover the test's loopback address), one with TLS
    const tlsBox = await enroll(ctx, 'lon-1', 'tlsbox', 'http://tlsbox.test:8080');
    const plainBox = await enroll(ctx, 'lon-1', 'plainbox', 'http://plainbox.test:8080');
    const files = ['tt1.v1', 'tt1.a1'];
    const routes = [{ prefix: '127.0.0.0/8', asPathLength: 1 }];
    await sendReport(ctx, tlsBox, { files, routes, tls: { url: 'https://tlsbox.test:8443', certificate: fingerprint(leaf.certPem) } });
    await sendReport(ctx, plainBox, { files, routes });
    const viewer = await addAccount(ctx, 'premium', 'eu');
    const r = await ctx.call('POST', '/v1/playback', { token: viewer.token, body: { titleId: 'tt1', profileId: viewer.profileId, device: 'd1' } });
    expect(r.status).toBe(201);
    // the per-target base URLs (the template's own BaseURLs are relative file names)
    const bases = [...(r.body.dash.mpd as string).matchAll(/<BaseURL>(https?:[^<]+)<\/BaseURL>/g)].map((m) => new URL(m[1]).origin);
    expect(bases).toContain('https://tlsbox.test:8443');
    expect(bases).not.toContain('http://tlsbox.test:8080');
    expect(bases).toContain('http://plainbox.test:8080');
    // the steering answer the HLS playlists are written from says the same
    const targets = (r.body.targets as { baseUrl: string }[]).map((t) => new URL(t.baseUrl).origin);
    expect(targets).toContain('https://tlsbox.test:8443');
    expect(targets).toContain('http://plainbox.test:8080');
  });
});

describe('a real appliance', () => {
  let d: Daemon;
  beforeAll(async () => {
    const t = await ctx.call('POST', '/v1/enrollment-tokens', { token: OPERATOR, body: { siteId: 'lon-1' } });
    d = await startDaemon({
      settings: {
        controlUrl: ctx.url,
        report: { enrollmentToken: t.body.enrollmentToken, name: 'tls-box', publicUrl: 'http://localhost:8080', reportIntervalMs: 200 },
        // no certificate files: everything it serves comes from control
        tls: { mode: 'beside', listen: '127.0.0.1:0', hostname: HOST, reloadCheckMs: 100 },
      },
    });
  });
  afterAll(async () => {
    expect(await d?.stop()).toBe(0);
  });

  it('gets the uploaded certificate over its report link, keeps it in its state dir and serves it', async () => {
    const ready = d.stdout.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((j) => j.msg === 'ready');
    const port = ready.tls.port as number;
    const served = () => new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/health', servername: HOST, ca: ca.caPem, agent: false } as RequestOptions, (res) => {
        const fp = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve(fp));
      });
      req.on('error', reject);
      req.end();
    });
    const deadline = Date.now() + 30_000;
    let got = '';
    while (got !== fingerprint(leaf.certPem)) {
      if (Date.now() > deadline) throw new Error('the appliance never served control\'s certificate');
      got = await served().catch(() => '');
      if (got !== fingerprint(leaf.certPem)) await sleep(200);
    }
    const copy = join(d.dir, 'state', 'tls', 'control-certificate.json');
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(copy, 'utf8')).certPem).toBe(leaf.certPem);
    // health follows within its 1 s tick: the certificate, from control, and nothing wrong with it
    for (let i = 0; ; i++) {
      const health = await (await fetch(`${d.admin}/v1/health`)).json() as { tls?: { source: string; fingerprint: string }; reasons: string[] };
      if (health.tls?.source === 'control') {
        expect(health.tls.fingerprint).toBe(fingerprint(leaf.certPem));
        expect(health.reasons.filter((r) => r.includes('TLS'))).toEqual([]);
        break;
      }
      if (i > 100) throw new Error(`health never showed control's certificate: ${JSON.stringify(health)}`);
      await sleep(100);
    }
  });
});
