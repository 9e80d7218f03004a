// Slowloris, header and URL limits, connection and keep-alive limits, and path traversal
// attempts, against a daemon with tight limits.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawGet, sleep, startDaemon, type Daemon } from '../daemon/harness.ts';

let d: Daemon;

beforeAll(async () => {
  d = await startDaemon({
    files: [{ fileId: 't1.v1', bytes: 2048, tier: 'ssd' }],
    settings: {
      headersTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
      keepAliveTimeoutMs: 500,
      maxConnections: 4, // two per worker
      maxHeaderSize: 4096,
      maxRequestsPerSocket: 2,
    },
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(d.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves with what the server sent once it closes the socket, or undefined after `ms`. */
function closedWithin(s: Socket, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (c) => (got += c.toString()));
    const t = setTimeout(() => resolve(undefined), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(got);
    });
    s.on('error', () => {});
  });
}

describe('protection', () => {
  it('slowloris: a header block that never ends is cut off', async () => {
    const s = await open();
    s.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    const drip = setInterval(() => {
      if (!s.destroyed) s.write(`X-Drip-${n++}: 1\r\n`);
    }, 200);
    const got = await closedWithin(s, 15_000);
    clearInterval(drip);
    s.destroy();
    expect(got).toBeDefined(); // the server closed it (the bound is far above headersTimeoutMs)
    expect(got).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('an oversized header block gets 431', async () => {
    const res = await rawGet(d.port, '/v1/health', { 'X-Big': 'a'.repeat(8_000) });
    expect(res.status).toBe(431);
  });

  it('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const s = await open();
    s.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    const got = await closedWithin(s, 10_000);
    expect(got).toMatch(/^HTTP\/1\.1 200/);
  });

  it('a keep-alive connection is closed after maxRequestsPerSocket requests', async () => {
    const s = await open();
    let got = '';
    s.on('data', (c) => (got += c.toString()));
    const closed = closedWithin(s, 10_000);
    const req = 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n';
    s.write(req);
    while (!got.includes('"status"')) await sleep(10);
    s.write(req);
    await closed;
    const heads = got.split('HTTP/1.1 ').slice(1);
    expect(heads).toHaveLength(2);
    expect(heads[0]).toMatch(/Connection: keep-alive/i);
    expect(heads[1]).toMatch(/Connection: close/i);
  });

  it('connections over maxConnections are refused', async () => {
    const socks = await Promise.all(Array.from({ length: 12 }, () => open()));
    const closed = await Promise.all(socks.map((s) => closedWithin(s, 1_500)));
    for (const s of socks) s.destroy();
    // each worker keeps at most its share (2); everything beyond is closed at once
    expect(closed.filter((c) => c !== undefined).length).toBeGreaterThanOrEqual(8);
    // the server notices the closed sockets and takes connections again
    for (let ok = 0; ok < 4; ) {
      ok = (await rawGet(d.port, '/v1/health').catch(() => undefined))?.status === 200 ? ok + 1 : 0;
      if (ok === 0) await sleep(50);
    }
  });

  it('traversal, encoded dots, bad characters and overlong ids never reach the filesystem', async () => {
    const token = d.token();
    const paths = [
      '/v1/f/../../../etc/passwd',
      `/v1/f/..%2f..%2f..%2fetc%2fpasswd?t=${token}`,
      `/v1/f/%2e%2e/%2e%2e/state/inventory.db?t=${token}`,
      `/v1/f/t1.v1%00?t=${token}`,
      `/v1/f/t1.v1/../../state/inventory.db?t=${token}`,
      `/v1/t/${token}/f/../../state/inventory.db`,
      `/v1/t/${token}/f/..%2f..%2fstate%2finventory.db`,
      `/v1/f/T1.V1?t=${token}`,
      `/v1/f/t1.v1;rm?t=${token}`,
      `/v1/f/t1.${'a'.repeat(300)}?t=${token}`,
      '/v1/f/%2fetc%2fpasswd',
      '/../../etc/passwd',
      '/v1/f/',
      '/v1/t//f/t1.v1',
      `/v1/f/${'x'.repeat(3000)}`,
    ];
    for (const p of paths) {
      const res = await rawGet(d.port, p);
      expect([400, 403, 404, 414, 431], p).toContain(res.status);
      expect(res.body.toString(), p).not.toMatch(/root:|SQLite format/);
    }
    // and the well-formed request still works
    expect((await rawGet(d.port, `/v1/f/t1.v1?t=${token}`)).status).toBe(200);
  });

  it('other methods are refused', async () => {
    const res = await fetch(`${d.origin}/v1/f/t1.v1?t=${d.token()}`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    await res.arrayBuffer();
    await sleep(0);
  });
});
