// Over TLS, a response with a large body reaches the socket as single-buffer writes — its head
// (with the body's first bytes) and then the body — never as one gathered write (writev) of head
// and body: node's TLS layer copies a gathered write whole into a fresh buffer before encrypting
// it, a copy of every segment that was a quarter of the appliance's CPU for HTTPS viewers
// (h1/response.ts). The bytes must still arrive exact and in order, on a kept-alive connection.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServeRequest, ServeResponse } from '../../src/http/h1/response.ts';
import { H1Server, type H1Limits } from '../../src/http/h1/server.ts';
import { tlsServerOptions } from '../../src/http/tls/cipher-policy.ts';
import { splitReplies } from './helpers/raw-replies.ts';
import { daysFromNow, makeTestCa, type TestCa } from './helpers/test-ca.ts';

const LIMITS: H1Limits = {
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 0,
  maxHeaderSize: 8192,
  socketIdleTimeoutMs: 10_000,
  maxConnections: 50,
};
// larger than the size up to which head and body are copied into one buffer anyway (16 KiB)
const BODY = randomBytes(300 * 1024);
const CHUNK = 128 * 1024;

let dir: string;
let ca: TestCa;
let server: H1Server;
let port: number;
/** gathered writes of more than one non-empty chunk */
let gathered = 0;
let writes = 0;

function countWrites(socket: Socket): void {
  const s = socket as Socket & { _writev?: (...a: unknown[]) => void; _write: (...a: unknown[]) => void; counted?: boolean };
  if (s.counted) return;
  s.counted = true;
  const writev = s._writev!;
  const write = s._write;
  s._writev = function (this: Socket, ...a: unknown[]) {
    // an empty chunk beside one with bytes (end() waiting for what is queued) is not copied
    const chunks = a[0] as { chunk: Buffer | string }[];
    if (chunks.filter((c) => c.chunk.length > 0).length > 1) gathered++;
    return writev.apply(this, a);
  };
  s._write = function (this: Socket, ...a: unknown[]) {
    writes++;
    return write.apply(this, a);
  };
}

function handler(req: ServeRequest, res: ServeResponse): void {
  countWrites(req.socket);
  res.writeHead(206, ['Content-Type', 'video/mp4', 'Content-Length', String(BODY.length)]);
  if (req.url === '/whole') {
    // a RAM-tier body: the whole range in one end()
    res.end(BODY);
    return;
  }
  // a disk-tier body: chunk by chunk as the socket drains, then end()
  let at = 0;
  const pump = (): void => {
    while (at < BODY.length) {
      const more = res.write(BODY.subarray(at, at + CHUNK));
      at += CHUNK;
      if (!more) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgebox-tls-writes-'));
  ca = makeTestCa(dir);
  const leaf = ca.leaf('leaf', ['localhost'], daysFromNow(-1), daysFromNow(30));
  server = new H1Server(LIMITS, handler, tlsServerOptions(leaf));
  await new Promise<void>((r) => server.server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Ask for `paths` one after the other on one TLS connection; the raw bytes of all answers. */
function fetchAll(paths: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let asked = 0;
    const s: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caPem }, () => ask());
    const ask = (): void => void s.write(`GET ${paths[asked++]} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const answered = splitReplies(Buffer.concat(chunks)).responses.filter((r) => r.body.length === BODY.length).length;
      if (answered < asked) return;
      if (asked < paths.length) return ask();
      s.end();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', reject);
  });
}

it('a large body over TLS goes out as single-buffer writes, byte-exact, on a kept-alive connection', async () => {
  gathered = 0;
  writes = 0;
  const raw = await fetchAll(['/whole', '/chunks', '/whole']);
  const replies = splitReplies(raw).responses;
  expect(replies.map((r) => r.status)).toEqual([206, 206, 206]);
  for (const r of replies) expect(Buffer.compare(r.body, BODY)).toBe(0);
  expect(writes).toBeGreaterThan(0);
  expect(gathered).toBe(0);
});
