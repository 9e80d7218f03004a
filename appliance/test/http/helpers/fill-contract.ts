// Stand-ins for the far ends of the fill contract (protocol/src/fill-manifest.ts), for serving
// tests that need a daemon with a fill manifest: a control that speaks only enroll, report and
// fill-manifest (the manifest is whatever the test sets, served with its version as the ETag and
// announced in every report reply), and an origin that serves files on /v1/f/:fileId to a valid
// peer token, counts its requests per file, and can hold a body part-way or flip its bytes.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  applianceReportPath, fillManifestPath, generatePeerSigningKey, signPeerToken, verifyPeerToken,
  type FillFile, type FillManifest, type PeerSigningKey,
} from '../../../../protocol/index.ts';

export const ENROLLMENT_TOKEN = 'enrollment-token-for-fill-serving-tests';
export const SITE = 'lon-1';
const CREDENTIAL = 'credential-for-fill-serving-tests';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(b.length), ...headers });
  res.end(b);
}

async function bodyOf(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
}

export interface ContractControl {
  url: string;
  applianceId: string;
  /** control's signing key: sign peer tokens as another appliance of the site would hold */
  key: PeerSigningKey;
  /** a peer token (for another appliance of the site by default) */
  peerToken(o?: Partial<{ exp: number; sites: string[]; sub: string }>): string;
  /** the manifest now served, or null to withhold it (reports announce none) */
  manifest: FillManifest | null;
  /** replace the manifest with a new version */
  setManifest(m: Omit<FillManifest, 'version'> | null): void;
  /** manifest GETs answered 200 */
  manifestFetches: number;
  stop(): Promise<void>;
}

export async function startContractControl(): Promise<ContractControl> {
  const key = generatePeerSigningKey('p1');
  let version = 0;
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/v1/appliances/enroll') {
      await bodyOf(req);
      return send(res, 201, { applianceId: c.applianceId, siteId: SITE, credential: CREDENTIAL, reportIntervalMs: 200 });
    }
    if (req.headers.authorization !== `Bearer ${CREDENTIAL}`) return send(res, 401, { error: { code: 'unauthenticated', message: 'no' } });
    if (req.method === 'POST' && url === applianceReportPath(c.applianceId)) {
      await bodyOf(req);
      return send(res, 200, { ok: true, drain: false, ...(c.manifest ? { fillManifest: c.manifest.version } : {}) });
    }
    if (req.method === 'GET' && url === fillManifestPath(c.applianceId)) {
      if (!c.manifest) return send(res, 404, { error: { code: 'not_found', message: 'no plan yet' } });
      const etag = `"${c.manifest.version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag });
        return res.end();
      }
      c.manifestFetches++;
      return send(res, 200, c.manifest, { etag });
    }
    send(res, 404, { error: { code: 'not_found', message: url } });
  });
  const c: ContractControl = {
    url: await listen(server),
    applianceId: 'app-1',
    key,
    peerToken: (o = {}) => signPeerToken(key, { exp: Math.floor(Date.now() / 1000) + 600, sub: 'app-2', sites: [SITE], ...o }),
    manifest: null,
    setManifest(m) {
      c.manifest = m === null ? null : { ...m, version: `v${++version}` };
    },
    manifestFetches: 0,
    stop: () => close(server),
  };
  return c;
}

/** A window that is closed now: scheduled fill does not run, only misses (fetchNow) do. */
export function closedWindow(now = Date.now()): FillManifest['window'] {
  const at = (h: number) => new Date(now + h * 3_600_000).toISOString().slice(11, 16);
  return { timeZone: 'UTC', start: at(6), end: at(7) };
}

/** A manifest for the contract control's appliance, wanting `files` from `sources`. */
export function manifestFor(c: ContractControl, o: {
  files: FillFile[];
  sources: FillManifest['sources'];
  peerServeRateBps?: number;
}): Omit<FillManifest, 'version'> {
  return {
    applianceId: c.applianceId,
    siteId: SITE,
    region: 'uk',
    generatedAt: Date.now(),
    window: closedWindow(),
    fillNowUntil: null,
    rateLimitBps: 0,
    peerServeRateBps: o.peerServeRateBps ?? 0,
    escalation: { peerMs: 1_000, tierMs: 1_000, allowOrigin: true },
    peer: { token: c.peerToken({ sub: c.applianceId }), publicKeys: { [c.key.kid]: c.key.x } },
    sources: o.sources,
    files: o.files,
  };
}

export interface OriginFile {
  data: Buffer;
  /** flip one byte this far into every body served (the sha256 no longer matches) */
  corruptAt?: number;
}

export interface Origin {
  url: string;
  files: Map<string, OriginFile>;
  /** requests received per fileId */
  requests: Map<string, number>;
  /** hold every body after this many bytes until release() (undefined: no hold) */
  holdAfter: number | undefined;
  release(): void;
  stop(): Promise<void>;
}

export function randomFile(bytes: number): { data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** The origin of the fill contract: GET /v1/f/:fileId with a peer token, Range honoured. */
export async function startOrigin(c: ContractControl): Promise<Origin> {
  let released: () => void = () => {};
  let gate = new Promise<void>((r) => (released = r));
  const server = createServer(async (req, res) => {
    const fileId = (req.url ?? '').replace(/^\/v1\/f\//, '').replace(/\?.*$/, '');
    o.requests.set(fileId, (o.requests.get(fileId) ?? 0) + 1);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const check = verifyPeerToken(token, { [c.key.kid]: c.key.x }, { siteId: null, nowSec: Math.floor(Date.now() / 1000) });
    if (!check.ok) return send(res, 403, { error: { code: 'forbidden', message: check.reason } });
    const f = o.files.get(fileId);
    if (!f) return send(res, 404, { error: { code: 'not_found', message: fileId } });
    let body = f.data;
    if (f.corruptAt !== undefined) {
      body = Buffer.from(body);
      body[f.corruptAt] ^= 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(body.length - start),
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const hold = o.holdAfter;
    if (hold !== undefined && hold > start) {
      res.write(body.subarray(start, hold));
      await gate;
      res.end(body.subarray(hold));
    } else {
      res.end(body.subarray(start));
    }
  });
  const o: Origin = {
    url: await listen(server),
    files: new Map(),
    requests: new Map(),
    holdAfter: undefined,
    release() {
      released();
      gate = new Promise<void>((r) => (released = r));
    },
    stop: async () => {
      released();
      await close(server);
    },
  };
  return o;
}

/** promtool's verdict on a daemon's /metrics text ('' when it has nothing to say). */
export async function promtoolCheck(text: string, dir: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { promisify } = await import('node:util');
  const path = `${dir}/metrics-check.txt`;
  writeFileSync(path, text);
  const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < ${path}`]);
  return (stdout + stderr).trim();
}
