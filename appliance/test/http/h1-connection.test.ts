// The serving port's connection layer (h1/) over real sockets, without the rest of the daemon:
// refusals reach the client as JSON errors and close the connection, pipelined requests are
// answered in order even when handlers finish out of order, a request dribbled a byte at a time
// works, a half-close still gets its answers, timeouts and the per-socket request cap hold, and a
// response that outruns its reader sees backpressure ('drain').
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeRequest, ServeResponse } from '../../src/http/h1/response.ts';
import { H1Server, type H1Limits } from '../../src/http/h1/server.ts';
import { splitReplies, type RawReply } from './helpers/raw-replies.ts';

const LIMITS: H1Limits = {
  headersTimeoutMs: 600,
  keepAliveTimeoutMs: 400,
  maxRequestsPerSocket: 3,
  maxHeaderSize: 2048,
  socketIdleTimeoutMs: 5_000,
  maxConnections: 50,
};
const BIG = Buffer.alloc(8 * 1024 * 1024, 7);
let drains = 0;

function handler(req: ServeRequest, res: ServeResponse): void {
  const url = new URL(req.url, 'http://x');
  const body = Buffer.from(`${req.method} ${url.pathname}`);
  const send = (): void => {
    res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(body.length)]);
    res.end(body);
  };
  if (url.pathname === '/big') {
    res.writeHead(200, ['Content-Length', String(BIG.length)]);
    let at = 0;
    res.on('drain', () => drains++);
    const pump = (): void => {
      while (at < BIG.length) {
        const more = res.write(BIG.subarray(at, at + 65536));
        at += 65536;
        if (!more) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  const delay = Number(url.searchParams.get('delay') ?? 0);
  if (delay > 0) setTimeout(send, delay);
  else send();
}

let server: H1Server;
let port: number;
beforeAll(async () => {
  server = new H1Server(LIMITS, handler);
  await new Promise<void>((r) => server.server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(r)));

type Reply = RawReply;
const parseReplies = (all: Buffer): Reply[] => splitReplies(all).responses;

/** Open, run `send` on the socket, collect until the server closes (or `ms`). */
function session(send: (s: Socket) => void | Promise<void>, ms = 5_000): Promise<{ replies: Reply[]; closed: boolean; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => void Promise.resolve(send(s)).catch(reject));
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
    const done = (closed: boolean): void => {
      clearTimeout(t);
      const raw = Buffer.concat(chunks);
      resolve({ replies: parseReplies(raw), closed, raw });
      s.destroy();
    };
    const t = setTimeout(() => done(false), ms);
    s.on('end', () => done(true));
  });
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('h1 connections', () => {
  it.each([
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 400],
    ['a duplicate Content-Length', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', 400],
    ['Transfer-Encoding on GET', 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a body on GET', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ])('%s: a JSON error with Connection: close, then the server closes', async (_what, text, status) => {
    const { replies, closed } = await session((s) => void s.write(text));
    expect(closed).toBe(true);
    expect(replies).toHaveLength(1);
    expect(replies[0].status).toBe(status);
    expect(replies[0].headers.connection).toBe('close');
    expect(replies[0].headers['access-control-allow-origin']).toBe('*');
    expect(JSON.parse(replies[0].body.toString()).error.code).toBe(status === 505 ? 'version_not_supported' : 'bad_request');
  });

  it('after a refusal, a client that never closes its side is cut off soon (not held to the idle timeout)', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('NOT A REQUEST\r\n\r\n'));
      s.on('data', () => s.write('more junk'));
      s.on('error', () => {});
      const t = setTimeout(() => resolve(false), 3_000);
      s.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    expect(closed).toBe(true);
  });

  it('an oversized head is a 431 before it even ends', async () => {
    const { replies, closed } = await session((s) => void s.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(3000)}`));
    expect(closed).toBe(true);
    expect(replies[0].status).toBe(431);
  });

  it('pipelined requests are answered in order, even when an earlier one finishes later', async () => {
    const { replies } = await session((s) => void s.write(get('/a?delay=80') + get('/b') + get('/c?delay=10', 'Connection: close\r\n')));
    expect(replies.map((r) => r.body.toString())).toEqual(['GET /a', 'GET /b', 'GET /c']);
    expect(replies.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive', 'close']);
  });

  it('a good request pipelined before a malformed one: its answer first, then the 400', async () => {
    const { replies, closed } = await session((s) => void s.write(`${get('/a?delay=50')}NOT A REQUEST\r\n\r\n${get('/never')}`));
    expect(replies.map((r) => r.status)).toEqual([200, 400]);
    expect(replies[0].body.toString()).toBe('GET /a');
    expect(closed).toBe(true);
  });

  it('a request dribbled one byte at a time is answered', async () => {
    const text = get('/slow');
    const { replies } = await session(async (s) => {
      for (const ch of text) {
        s.write(ch);
        await new Promise((r) => setTimeout(r, 1));
      }
    }, 1_500);
    expect(replies.map((r) => r.body.toString())).toEqual(['GET /slow']);
  });

  it('requests then a half-close (FIN): every answer, then the server closes', async () => {
    const { replies, closed } = await session((s) => void s.end(get('/a?delay=50') + get('/b?delay=20')));
    expect(replies.map((r) => r.body.toString())).toEqual(['GET /a', 'GET /b']);
    expect(closed).toBe(true);
  });

  it('HEAD gets the headers and no body; HTTP/1.0 closes unless asked to keep alive', async () => {
    const { raw, closed } = await session((s) => void s.write('HEAD /h HTTP/1.0\r\n\r\n'));
    expect(raw.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: 7\r\n[\s\S]*Connection: close\r\n\r\n$/);
    expect(closed).toBe(true);
  });

  it('the third request on a connection is its last (maxRequestsPerSocket)', async () => {
    const { replies, closed } = await session((s) => void s.write(get('/1') + get('/2') + get('/3') + get('/4')));
    expect(replies.map((r) => r.body.toString())).toEqual(['GET /1', 'GET /2', 'GET /3']);
    expect(replies[2].headers.connection).toBe('close');
    expect(closed).toBe(true);
  });

  it('an unfinished head is answered 408 after headersTimeoutMs; an idle connection just closes', async () => {
    const slow = await session((s) => void s.write('GET / HTTP/1.1\r\nHost: x\r\n'));
    expect(slow.closed).toBe(true);
    expect(slow.replies[0].status).toBe(408);
    const idle = await session((s) => void s.write(get('/once')));
    expect(idle.closed).toBe(true);
    expect(idle.replies.map((r) => r.status)).toEqual([200]);
  });

  it('a reader that stops reading mid-body is cut after socketIdleTimeoutMs with nothing moving', async () => {
    const CHUNK = Buffer.alloc(65536, 1);
    const TOTAL = 256 * 1024 * 1024; // far more than loopback's socket buffers hold
    let cut = false;
    const stalled = new H1Server({ ...LIMITS, socketIdleTimeoutMs: 300 }, (_req, res) => {
      res.writeHead(200, ['Content-Length', String(TOTAL)]);
      let sent = 0;
      res.on('close', () => (cut = !res.writableFinished));
      const pump = (): void => {
        while (sent < TOTAL && !res.destroyed) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    await new Promise<void>((r) => stalled.server.listen(0, '127.0.0.1', r));
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      const s = connect((stalled.server.address() as { port: number }).port, '127.0.0.1', () => s.write(get('/endless')));
      s.pause();
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('error', () => {});
      s.on('close', () => resolve(n));
      setTimeout(() => s.resume(), 2_000); // long after the cut; then read what is left
    });
    await new Promise<void>((r) => stalled.close(r));
    expect(cut).toBe(true);
    expect(got).toBeLessThan(TOTAL);
  });

  it.each([
    ['kept alive', ''],
    ['the last on its connection', 'Connection: close\r\n'],
  ])('a body handed over in one end() still goes out whole to a reader slower than the keep-alive timeout (%s)', async (_, extra) => {
    // the response is over for the handler at once, but its bytes wait in the socket's buffer:
    // that connection is not idle, and the keep-alive sweep must not cut it
    const WHOLE = Buffer.alloc(32 * 1024 * 1024, 3); // far more than loopback's socket buffers hold
    const oneShot = new H1Server({ ...LIMITS, keepAliveTimeoutMs: 300 }, (_req, res) => {
      res.writeHead(200, ['Content-Length', String(WHOLE.length)]);
      res.end(WHOLE);
    });
    await new Promise<void>((r) => oneShot.server.listen(0, '127.0.0.1', r));
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      const s = connect((oneShot.server.address() as { port: number }).port, '127.0.0.1', () => s.write(get('/whole', extra)));
      s.pause();
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('error', () => {});
      s.on('close', () => resolve(n));
      setTimeout(() => s.resume(), 1_500); // several keep-alive timeouts and sweeps later
      const t = setInterval(() => {
        if (n >= WHOLE.length) {
          clearInterval(t);
          s.destroy();
        }
      }, 20);
      s.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => oneShot.close(r));
    expect(got).toBeGreaterThan(WHOLE.length); // the head and every body byte
  });

  it('thousands of small pipelined answers to a reader that lags: each one whole and in order', async () => {
    // small answers are assembled in a reused buffer; one whose write has to queue must keep it
    const BODY = 3000;
    const many = new H1Server({ ...LIMITS, maxRequestsPerSocket: 0 }, (req, res) => {
      const body = Buffer.alloc(BODY, req.url.slice(1)); // "/<n>": the body repeats n's digits
      res.writeHead(200, ['Content-Length', String(body.length)]);
      res.end(body);
    });
    await new Promise<void>((r) => many.server.listen(0, '127.0.0.1', r));
    const N = 4000;
    const raw = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const s = connect((many.server.address() as { port: number }).port, '127.0.0.1', () => {
        let all = '';
        for (let i = 0; i < N; i++) all += get(`/${i}`, i === N - 1 ? 'Connection: close\r\n' : '');
        s.write(all);
      });
      s.pause();
      setTimeout(() => s.resume(), 300);
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
      });
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks, n)));
    });
    await new Promise<void>((r) => many.close(r));
    const replies = parseReplies(raw);
    expect(replies.length).toBe(N);
    for (let i = 0; i < N; i++) {
      if (!replies[i].body.equals(Buffer.alloc(BODY, String(i)))) throw new Error(`answer ${i} is not its own`);
    }
  });

  it('a body larger than the socket buffer goes out whole, through backpressure and drain', async () => {
    drains = 0;
    const { replies } = await session(async (s) => {
      s.pause(); // let the server's buffers fill
      s.write(get('/big', 'Connection: close\r\n'));
      await new Promise((r) => setTimeout(r, 200));
      s.resume();
    });
    expect(drains).toBeGreaterThan(0);
    expect(replies[0].body.length).toBe(BIG.length);
    expect(replies[0].body.equals(BIG)).toBe(true);
  });
});
