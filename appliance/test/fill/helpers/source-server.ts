// A real HTTP fill source for tests (node:http on loopback): serves files on the peer path and
// the origin path with Range, checks the Bearer token, records every request with the bytes it
// actually sent, and can misbehave: flip a byte, cut the connection mid-body, answer an error.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FillFile, FillLevel, FillManifest, FillSource } from '../../../../protocol/index.ts';

export interface SourceRequest {
  fileId: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
  /** body bytes written to the socket before the response ended or was cut */
  sent: number;
}

export interface Behaviour {
  /** serve these files with one byte flipped */
  flip?: boolean;
  /** on the first request only, destroy the connection after this many body bytes */
  cutAfter?: number;
  /** instead of cutting, close the whole server (the source dies) after this many body bytes */
  dieAfter?: number;
  /** answer every request with this status */
  status?: number;
  /** ignore Range and always answer 200 with the whole file */
  ignoreRange?: boolean;
  /** on the first request only, send this many body bytes, then wait for release() */
  holdAfter?: number;
  /** frame 200/206 bodies without Content-Length: chunked, or ended by closing the connection */
  framing?: 'chunked' | 'close';
  /** send bodies in pieces of this many bytes, each after the last one left and a short pause (`sent` counts them) */
  dribble?: number;
}

export interface SourceServer {
  id: string;
  level: FillLevel;
  baseUrl: string;
  requests: SourceRequest[];
  behaviour: Behaviour;
  source(): FillSource;
  /** let a response held by `holdAfter` finish */
  release(): void;
  close(): Promise<void>;
}

export const TOKEN = 'test-peer-token';

export function testFile(fileId: string, bytes: number): { fileId: string; data: Buffer; sha256: string } {
  const data = randomBytes(bytes);
  return { fileId, data, sha256: createHash('sha256').update(data).digest('hex') };
}

export async function startSource(id: string, level: FillLevel, files: Map<string, Buffer>, behaviour: Behaviour = {}): Promise<SourceServer> {
  const requests: SourceRequest[] = [];
  const sockets = new Set<Socket>();
  let first = true;
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    const fileId = path.replace(/^\/v1\/(peer\/)?f\//, '');
    const r: SourceRequest = { fileId, range: req.headers.range, authorization: req.headers.authorization, status: 0, sent: 0 };
    requests.push(r);
    const end = (status: number) => {
      r.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return end(401);
    if (behaviour.status) return end(behaviour.status);
    let data = files.get(fileId);
    if (!data) return end(404);
    if (behaviour.flip) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0x01;
    }
    const length = (n: number): Record<string, number> => {
      if (behaviour.framing === undefined) return { 'content-length': n };
      if (behaviour.framing === 'close') res.useChunkedEncodingByDefault = false; // no length: ends with the connection
      return {};
    };
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !behaviour.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        r.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        return res.end();
      }
      r.status = 206;
      res.writeHead(206, { ...length(data.length - start), 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      r.status = 200;
      res.writeHead(200, length(data.length));
    }
    const body = data.subarray(start);
    const cut = first ? (behaviour.cutAfter ?? behaviour.dieAfter) : undefined;
    const hold = first ? behaviour.holdAfter : undefined;
    first = false;
    if (hold !== undefined) {
      r.sent = body.length;
      res.write(body.subarray(0, hold));
      void released.then(() => res.end(body.subarray(hold)));
      return;
    }
    if (behaviour.dribble !== undefined) {
      const piece = behaviour.dribble;
      const more = (): void => {
        if (r.sent >= body.length) return void res.end();
        const n = Math.min(piece, body.length - r.sent);
        const chunk = body.subarray(r.sent, r.sent + n);
        r.sent += n;
        res.write(chunk, () => void setTimeout(more, 2));
      };
      more();
      return;
    }
    if (cut === undefined) {
      r.sent = body.length;
      res.end(body);
      return;
    }
    r.sent = Math.min(cut, body.length);
    res.write(body.subarray(0, r.sent), () => {
      if (behaviour.dieAfter !== undefined) void close();
      else req.socket.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    return closed;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  return { id, level, baseUrl, requests, behaviour, source: () => ({ id, level, baseUrl }), release, close };
}

/** Requests for one file, in order. */
export function requestsFor(s: SourceServer, fileId: string): SourceRequest[] {
  return s.requests.filter((r) => r.fileId === fileId);
}

export interface ManifestOptions {
  version?: string;
  files: Array<{ fileId: string; data: Buffer; sha256: string; sources: string[]; notYet?: string[]; rank?: number; tier?: 'ssd' | 'hdd' }>;
  sources: FillSource[];
  /** default: open all day */
  window?: FillManifest['window'];
  fillNowUntil?: number | null;
  rateLimitBps?: number;
  escalation?: Partial<FillManifest['escalation']>;
}

export function manifest(o: ManifestOptions): FillManifest {
  const files: FillFile[] = o.files.map((f, i) => ({
    fileId: f.fileId, bytes: f.data.length, sha256: f.sha256, kind: 'video', rank: f.rank ?? i, tier: f.tier ?? 'ssd', sources: f.sources,
    ...(f.notYet ? { notYet: f.notYet } : {}),
  }));
  return {
    version: o.version ?? `v-${Math.random().toString(36).slice(2)}`,
    applianceId: 'a1', siteId: 'site-1', region: 'eu', generatedAt: Date.now(),
    window: o.window ?? { timeZone: 'UTC', start: '00:00', end: '00:00' },
    fillNowUntil: o.fillNowUntil ?? null,
    rateLimitBps: o.rateLimitBps ?? 0,
    peerServeRateBps: 0,
    escalation: { peerMs: 2_000, tierMs: 2_000, allowOrigin: true, ...o.escalation },
    peer: { token: TOKEN, publicKeys: {} },
    sources: o.sources,
    files,
  };
}

/** A UTC window that is closed now: it opens in two hours. */
export function closedWindow(now = Date.now()): FillManifest['window'] {
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return { timeZone: 'UTC', start: hhmm(now + 2 * 3600_000), end: hhmm(now + 3 * 3600_000) };
}
