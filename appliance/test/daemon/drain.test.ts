// Drain: new connections are refused, a range in flight runs to completion, the process exits 0.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sleep, startDaemon } from './harness.ts';

const BIG = 24 * 1024 * 1024; // more than loopback socket buffers hold, so the response stalls

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('drain', () => {
  it('refuses new connections, finishes the range in flight, exits 0', async () => {
    const d = await startDaemon({ files: [{ fileId: 't1.big', bytes: BIG, tier: 'ssd' }], settings: { drainTimeoutMs: 30_000 } });
    try {
      const want = d.files.get('t1.big')!.data;
      // a slow reader: start the response, then stop reading so it stays in flight
      const sock = connect(d.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let received = 0;
      const firstData = new Promise<void>((r) => sock.once('data', () => r()));
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        sock.pause();
      });
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.write(`GET /v1/f/t1.big?t=${d.token()} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-\r\n\r\n`);
      await firstData;

      const res = await d.adminFetch('/v1/admin/drain', { method: 'POST' });
      expect(res.status).toBe(202);
      const deadline = Date.now() + 15_000;
      while (!(await refused(d.port))) {
        if (Date.now() > deadline) throw new Error('the port kept accepting while draining');
        await sleep(50);
      }
      // still running: the range is in flight
      expect(d.child.exitCode).toBeNull();
      expect(received).toBeLessThan(BIG);

      sock.on('data', () => sock.resume());
      sock.resume();
      await closed;
      const all = Buffer.concat(chunks);
      const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
      expect(all.subarray(0, 12).toString()).toBe('HTTP/1.1 206');
      expect(body.length).toBe(BIG);
      expect(body.equals(want)).toBe(true);
      expect(await d.exited).toBe(0);
      expect(d.stdout.some((l) => l.includes('every in-flight response finished'))).toBe(true);
    } finally {
      await d.stop();
    }
  });
});
