// The fault proxy the fill tests put in front of sources: it forwards bytes unchanged, counts
// them per request with the asker's identity, and its corrupt / hold / cut rules do what the
// tests rely on.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerTokenSubject, startFaultProxy, type FaultProxy } from '../lib/fault-proxy.ts';

const FILE = randomBytes(3 * 1024 * 1024 + 17);

describe('fault proxy', () => {
  let upstream: Server;
  let proxy: FaultProxy;
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { 'content-length': FILE.length - start });
      res.end(FILE.subarray(start));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  const token = `${Buffer.from(JSON.stringify({ v: 1, typ: 'peer', sub: 'app-x' })).toString('base64url')}.sig`;

  it('forwards bytes unchanged and counts them with the peer token subject', async () => {
    const res = await fetch(`${proxy.url}/v1/peer/f/t1.a`, { headers: { authorization: `Bearer ${token}` } });
    expect(Buffer.from(await res.arrayBuffer()).equals(FILE)).toBe(true);
    const r = proxy.requests((x) => x.fileId === 't1.a');
    expect(r).toMatchObject([{ from: 'app-x', bytes: FILE.length, status: 200, done: true, broken: false }]);
    expect(peerTokenSubject('Bearer nonsense')).toBeNull();
  });

  it('corrupt flips a byte; the rule stops after `times`', async () => {
    const f = proxy.add({ kind: 'corrupt', file: 't1.b', times: 1 });
    const bad = Buffer.from(await (await fetch(`${proxy.url}/v1/f/t1.b`)).arrayBuffer());
    expect(bad.length).toBe(FILE.length);
    expect(bad.equals(FILE)).toBe(false);
    expect(bad.subarray(1).equals(FILE.subarray(1))).toBe(true);
    const good = Buffer.from(await (await fetch(`${proxy.url}/v1/f/t1.b`)).arrayBuffer());
    expect(good.equals(FILE)).toBe(true);
    expect(f.hits).toBe(1);
  });

  it('hold stops after afterBytes until cut; the client sees exactly that many bytes', async () => {
    const f = proxy.add({ kind: 'hold', file: 't1.c', afterBytes: 1_000_000 });
    const res = await fetch(`${proxy.url}/v1/f/t1.c`);
    const reader = res.body!.getReader();
    let got = 0;
    const reading = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'end';
          got += value.length;
        }
      } catch {
        return 'broken';
      }
    })();
    const held = await f.held;
    expect(held.fileId).toBe('t1.c');
    f.cut();
    expect(await reading).toBe('broken');
    expect(got).toBe(1_000_000);
    f.remove();
    const rest = await fetch(`${proxy.url}/v1/f/t1.c`, { headers: { range: `bytes=${got}-` } });
    expect(Buffer.from(await rest.arrayBuffer()).equals(FILE.subarray(got))).toBe(true);
    expect(proxy.requests((x) => x.fileId === 't1.c').map((x) => [x.range, x.bytes, x.broken]))
      .toEqual([[null, 1_000_000, true], [`bytes=${got}-`, FILE.length - got, false]]);
  });

  it('a released hold completes the body', async () => {
    const f = proxy.add({ kind: 'hold', file: 't1.d', afterBytes: 500_000 });
    const body = fetch(`${proxy.url}/v1/f/t1.d`).then(async (r) => Buffer.from(await r.arrayBuffer()));
    await f.held;
    f.release();
    expect((await body).equals(FILE)).toBe(true);
  });

  it('a source killed during a hold: the client connection breaks after exactly afterBytes', async () => {
    const f = proxy.add({ kind: 'hold', file: 't1.f', afterBytes: 700_000 });
    const body = fetch(`${proxy.url}/v1/f/t1.f`).then((r) => r.arrayBuffer());
    await f.held;
    upstream.closeAllConnections();
    f.cut();
    await expect(body).rejects.toThrow();
    expect(proxy.requests((x) => x.fileId === 't1.f')[0]).toMatchObject({ bytes: 700_000, broken: true });
  });

  it('cut drops the connection after afterBytes', async () => {
    proxy.add({ kind: 'cut', file: 't1.e', afterBytes: 2_000_000 });
    await expect(fetch(`${proxy.url}/v1/f/t1.e`).then((r) => r.arrayBuffer())).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(proxy.requests((x) => x.fileId === 't1.e')[0]).toMatchObject({ bytes: 2_000_000, broken: true });
  });
});
