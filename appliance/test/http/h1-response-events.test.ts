// A response's end of life in the h1 layer: 'finish' (every byte handed to the kernel) and the
// close hook then 'close' come exactly once per response, never from inside end(), for small
// answers written whole at once (many ending in one tick when pipelined) and for a body that has
// to queue behind a reader that is not reading — whose 'finish' waits until its bytes are out.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeRequest, ServeResponse } from '../../src/http/h1/response.ts';
import { H1Server, type H1Limits } from '../../src/http/h1/server.ts';
import { splitReplies } from './helpers/raw-replies.ts';

const LIMITS: H1Limits = {
  headersTimeoutMs: 2_000,
  keepAliveTimeoutMs: 2_000,
  maxRequestsPerSocket: 0,
  maxHeaderSize: 2048,
  socketIdleTimeoutMs: 5_000,
  maxConnections: 50,
};
const BIG = Buffer.alloc(32 * 1024 * 1024, 5);

interface Seen {
  url: string;
  events: string[];
  /** an event fired while end() was still running */
  duringEnd: boolean;
  /** the client had resumed reading when 'finish' fired */
  finishAfterResume?: boolean;
}

let server: H1Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((r) => s.close(r));
});

async function start(state: { resumed: boolean }, seen: Seen[]): Promise<number> {
  server = new H1Server(LIMITS, (req: ServeRequest, res: ServeResponse) => {
    const s: Seen = { url: req.url, events: [], duringEnd: false };
    seen.push(s);
    let inEnd = false;
    const note = (e: string): void => {
      s.events.push(e);
      if (inEnd) s.duringEnd = true;
    };
    res.closeHook = { closed: () => note('hook') };
    res.on('finish', () => {
      note('finish');
      s.finishAfterResume = state.resumed;
    });
    res.on('close', () => note('close'));
    const body = req.url === '/big' ? BIG : Buffer.from(`answer ${req.url}`);
    res.writeHead(200, ['Content-Length', String(body.length)]);
    inEnd = true;
    res.end(body);
    inEnd = false;
  });
  await new Promise<void>((r) => server!.server.listen(0, '127.0.0.1', r));
  return (server.server.address() as { port: number }).port;
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

function fetchAll(port: number, requests: string, pauseMs: number, state: { resumed: boolean }): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(requests));
    if (pauseMs > 0) {
      s.pause();
      setTimeout(() => {
        state.resumed = true;
        s.resume();
      }, pauseMs);
    }
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('h1 response events', () => {
  it('pipelined small answers: each finishes once, after end() returned, then its hook and close', async () => {
    const state = { resumed: true };
    const seen: Seen[] = [];
    const port = await start(state, seen);
    const N = 50;
    let all = '';
    for (let i = 0; i < N; i++) all += get(`/${i}`, i === N - 1 ? 'Connection: close\r\n' : '');
    const raw = await fetchAll(port, all, 0, state);
    const replies = splitReplies(raw).responses;
    expect(replies.map((r) => r.body.toString())).toEqual(Array.from({ length: N }, (_, i) => `answer /${i}`));
    expect(seen.length).toBe(N);
    for (const s of seen) {
      expect(s.events, s.url).toEqual(['finish', 'hook', 'close']);
      expect(s.duringEnd, s.url).toBe(false);
    }
  });

  it('a body queued behind a reader that is not reading finishes only once its bytes are out', async () => {
    const state = { resumed: false };
    const seen: Seen[] = [];
    const port = await start(state, seen);
    const raw = await fetchAll(port, get('/big', 'Connection: close\r\n'), 300, state);
    const replies = splitReplies(raw).responses;
    expect(replies.length).toBe(1);
    expect(replies[0].body.equals(BIG)).toBe(true);
    expect(seen[0].events).toEqual(['finish', 'hook', 'close']);
    expect(seen[0].duringEnd).toBe(false);
    expect(seen[0].finishAfterResume).toBe(true);
  });

  it('a client gone before its answer is written: no finish, the hook and close once', async () => {
    const state = { resumed: true };
    const seen: Seen[] = [];
    const port = await start(state, seen);
    // a 32 MiB answer to a client that closes without reading: the write cannot complete
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(get('/big')));
      s.pause();
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 200);
    });
    for (let i = 0; i < 100 && !(seen[0]?.events.includes('close')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen[0].events).toEqual(['hook', 'close']);
  });
});
