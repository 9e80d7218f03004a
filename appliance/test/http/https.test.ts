// HTTPS on the public port against a real daemon: a CA and leaves made with openssl at test time,
// byte-exact ranges for a client that trusts the CA, ALPN, resumed sessions across connections
// (and workers), certificate reloads that keep open downloads and lose no request under load,
// and expired / expiring / wrong-host certificates reported as degraded with days left.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, sample, sleep, startDaemon, type Daemon } from '../daemon/harness.ts';
import { daysFromNow, makeTestCa, type Leaf, type TestCa } from './helpers/test-ca.ts';

const HOST = 'localhost';
const ID = { ram: 't1.ram', ssd: 't1.ssd', big: 't1.big' } as const;

let d: Daemon;
let ca: TestCa;
let caDir: string;
let tlsPort: number;
let first: Leaf;
const certFile = () => join(caDir, 'served.pem');
const keyFile = () => join(caDir, 'served.key');

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  alpn: string | false | null;
  reused: boolean;
  fingerprint: string;
  session: Buffer | undefined;
}

function get(path: string, o: { range?: string; session?: Buffer; ca?: string } = {}): Promise<Got> {
  // session and ALPN are tls.connect options that node's https types leave out
  const opts = {
    host: '127.0.0.1', port: tlsPort, path, servername: HOST, agent: false, ca: o.ca ?? ca.caPem,
    ALPNProtocols: ['http/1.1'], session: o.session, headers: o.range ? { range: o.range } : {},
  } as RequestOptions;
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const req = request(opts, (res) => {
      const sock = res.socket as TLSSocket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), alpn: sock.alpnProtocol,
        reused: sock.isSessionReused(), fingerprint: sock.getPeerCertificate().fingerprint256, session: session ?? sock.getSession(),
      }));
      res.on('error', reject);
    });
    req.on('socket', (s) => s.on('session', (sess: Buffer) => (session ??= sess)));
    req.on('error', reject);
    req.end();
  });
}

const fileUrl = (fileId: string) => `/v1/f/${fileId}?t=${d.token()}`;

/** Replace the configured pair the way an operator's tool would: each file renamed into place. */
function install(leaf: Leaf): void {
  writeFileSync(`${keyFile()}.tmp`, leaf.keyPem);
  writeFileSync(`${certFile()}.tmp`, leaf.certPem);
  renameSync(`${keyFile()}.tmp`, keyFile());
  renameSync(`${certFile()}.tmp`, certFile());
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Wait until new connections are served `leaf`. */
function servedBy(leaf: Leaf): Promise<true> {
  const want = new X509Certificate(leaf.certPem).fingerprint256;
  return until(`certificate ${want}`, async () => ((await get('/v1/health')).fingerprint === want ? true : undefined));
}

beforeAll(async () => {
  caDir = mkdtempSync(join(tmpdir(), 'edgebox-ca-'));
  ca = makeTestCa(caDir);
  first = ca.leaf('first', [HOST, '127.0.0.1'], daysFromNow(-1), daysFromNow(90));
  install(first);
  d = await startDaemon({
    files: [
      { fileId: ID.ram, bytes: 1_200_000, tier: 'ram' },
      { fileId: ID.ssd, bytes: 700_001, tier: 'ssd' },
      { fileId: ID.big, bytes: 8_000_000, tier: 'ssd' },
    ],
    waitRam: true,
    settings: { tls: { mode: 'beside', listen: '127.0.0.1:0', certFile: certFile(), keyFile: keyFile(), hostname: HOST, reloadCheckMs: 100 } },
  });
  const ready = d.stdout.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((j) => j.msg === 'ready');
  tlsPort = ready.tls.port;
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
  rmSync(caDir, { recursive: true, force: true });
});

describe('HTTPS beside plain HTTP', () => {
  it('serves byte-exact ranges from RAM and SSD to a client that trusts the CA, over ALPN http/1.1', async () => {
    for (const fileId of [ID.ram, ID.ssd]) {
      const data = d.files.get(fileId)!.data;
      const whole = await get(fileUrl(fileId));
      expect(whole.status).toBe(200);
      expect(whole.body.equals(data)).toBe(true);
      expect(whole.alpn).toBe('http/1.1');
      for (const [start, end] of [[0, 0], [1000, 263_143], [data.length - 10, data.length - 1]]) {
        const r = await get(fileUrl(fileId), { range: `bytes=${start}-${end}` });
        expect(r.status).toBe(206);
        expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`);
        expect(r.body.equals(data.subarray(start, end + 1))).toBe(true);
      }
    }
    // the plain port still answers beside it
    const plain = await fetch(`${d.origin}${fileUrl(ID.ssd)}`, { headers: { range: 'bytes=0-9' } });
    expect(Buffer.from(await plain.arrayBuffer()).equals(d.files.get(ID.ssd)!.data.subarray(0, 10))).toBe(true);
  });

  it('is refused by a client that does not trust the CA', async () => {
    const other = makeTestCa(mkdtempSync(join(tmpdir(), 'edgebox-other-ca-')));
    await expect(get('/v1/health', { ca: other.caPem })).rejects.toThrow(/certificate/i);
  });

  it('resumes the session on later connections, whichever worker takes them', async () => {
    const a = await get('/v1/health');
    expect(a.reused).toBe(false);
    expect(a.session).toBeDefined();
    // reusePort spreads connections over both workers; every one must resume with the ticket
    for (let i = 0; i < 8; i++) {
      const b = await get(fileUrl(ID.ram), { session: a.session, range: 'bytes=0-99' });
      expect(b.status).toBe(206);
      expect(b.reused).toBe(true);
    }
  });

  it('reports the certificate in /v1/health and /metrics: days left, source', async () => {
    const h = await json(fetch(`${d.admin}/v1/health`));
    expect(h.status).toBe('ok');
    expect(h.tls).toMatchObject({ source: 'files', hostname: HOST, daysLeft: 89 });
    const text = await d.metrics();
    const left = sample(text, 'edgebox_tls_certificate_days_left{source="files"}');
    // the TLS series pass Prometheus's own lint like the rest
    const path = join(caDir, 'metrics.txt');
    writeFileSync(path, text);
    const lint = spawnSync('sh', ['-c', `promtool check metrics < ${path}`], { encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`).not.toMatch(/error|should|not found/i);
    expect(left).toBeGreaterThan(89);
    expect(left).toBeLessThan(90.01);
    // the public port's health carries it too (players and load balancers read that one)
    expect((await get('/v1/health')).body.toString()).toContain('"daysLeft":89');
  });
});

describe('certificate reloads', () => {
  it('new connections get the new certificate while a download on an old connection completes', async () => {
    const data = d.files.get(ID.big)!.data;
    const chunks: Buffer[] = [];
    let oldFingerprint = '';
    const done = new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: tlsPort, path: fileUrl(ID.big), servername: HOST, agent: false, ca: ca.caPem }, (res) => {
        oldFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.once('data', (c: Buffer) => {
          chunks.push(c);
          res.pause(); // hold the connection open, mid-body, across the reload
          void reload().then(() => {
            res.on('data', (c2: Buffer) => chunks.push(c2));
            res.resume();
          }, reject);
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const second = ca.leaf('second', [HOST, '127.0.0.1'], daysFromNow(-1), daysFromNow(60));
    const reload = async () => {
      install(second);
      await servedBy(second);
    };
    await done;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(oldFingerprint).not.toBe((await get('/v1/health')).fingerprint);
    // health follows within its 1 s tick
    await until('health of the new certificate', async () => ((await json(fetch(`${d.admin}/v1/health`))).tls.daysLeft === 59 ? true : undefined));
  });

  it('loses no request while the certificate is replaced several times under load', async () => {
    const data = d.files.get(ID.ssd)!.data;
    const leaves = [ca.leaf('third', [HOST, '127.0.0.1'], daysFromNow(-1), daysFromNow(80)), first];
    let reloading = true;
    let ok = 0;
    const failures: string[] = [];
    const client = async (seed: number) => {
      for (let i = 0; reloading && i < 2000; i++) {
        const start = (seed * 7919 + i * 104_729) % (data.length - 4096);
        try {
          const r = await get(fileUrl(ID.ssd), { range: `bytes=${start}-${start + 4095}` });
          if (r.status === 206 && r.body.equals(data.subarray(start, start + 4096))) ok++;
          else failures.push(`status ${r.status}, ${r.body.length} bytes`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    for (let round = 0; round < 4; round++) {
      const leaf = leaves[round % 2];
      install(leaf);
      await servedBy(leaf);
    }
    reloading = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(sample(await d.metrics(), 'edgebox_tls_certificate_reloads_total{result="ok"}')).toBeGreaterThanOrEqual(5);
  });
});

describe('certificate health', () => {
  const health = () => json(fetch(`${d.admin}/v1/health`));
  const cases: [string, () => Leaf, RegExp, (days: number) => boolean][] = [
    ['expired', () => ca.leaf('expired', [HOST], daysFromNow(-60), daysFromNow(-2)), /TLS certificate expired on/, (n) => n < 0],
    ['expiring within 14 days', () => ca.leaf('expiring', [HOST], daysFromNow(-60), daysFromNow(5.5)), /TLS certificate expires in 5 days/, (n) => n === 5],
    ['for another hostname', () => ca.leaf('wrong-host', ['other.example'], daysFromNow(-1), daysFromNow(90)), /does not name the serving hostname localhost/, (n) => n === 89],
  ];
  it.each(cases)('%s: degraded, with the reason and days left', async (_name, make, reason, days) => {
    const leaf = make();
    install(leaf);
    const h = await until('degraded health', async () => {
      const j = await health();
      return j.reasons.some((r: string) => reason.test(r)) ? j : undefined;
    });
    expect(h.status).toBe('degraded');
    expect(days(h.tls.daysLeft)).toBe(true);
    expect(days(Math.floor(sample(await d.metrics(), 'edgebox_tls_certificate_days_left{source="files"}')!))).toBe(true);
  });

  it('a good certificate again: ok', async () => {
    install(first);
    const h = await until('ok health', async () => {
      const j = await health();
      return j.status === 'ok' ? j : undefined;
    });
    expect(h.tls.daysLeft).toBe(89);
  });
});

describe('HTTPS only (tls.mode only)', () => {
  let only: Daemon;
  afterAll(async () => {
    expect(await only?.stop()).toBe(0);
  });

  it('speaks TLS on the public port and nothing in the clear', async () => {
    install(first);
    only = await startDaemon({
      files: [{ fileId: ID.ssd, bytes: 300_000, tier: 'ssd' }],
      settings: { tls: { mode: 'only', certFile: certFile(), keyFile: keyFile(), hostname: HOST } },
    });
    const data = only.files.get(ID.ssd)!.data;
    const saved = tlsPort;
    tlsPort = only.port;
    try {
      const r = await get(`/v1/f/${ID.ssd}?t=${only.token()}`, { range: 'bytes=100-199' });
      expect(r.status).toBe(206);
      expect(r.body.equals(data.subarray(100, 200))).toBe(true);
    } finally {
      tlsPort = saved;
    }
    await expect(fetch(`${only.origin}/v1/health`)).rejects.toThrow();
  });
});
