// Small ranges pipelined on one keep-alive connection to a reader that lags, from every tier: each
// answer carries its own bytes. Small SSD ranges are read into one reused per-thread buffer and
// small answers are assembled in another (h1/response.ts), so an answer that kept a reference to
// either instead of a copy would show another range's bytes here.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../daemon/harness.ts';
import { splitReplies } from './helpers/raw-replies.ts';

let d: Daemon;
const ID = { ram: 't1.ram', ssd: 't1.ssd', hdd: 't1.hdd' } as const;

beforeAll(async () => {
  d = await startDaemon({
    files: [
      { fileId: ID.ram, bytes: 700_000, tier: 'ram' },
      { fileId: ID.ssd, bytes: 600_000, tier: 'ssd' },
      { fileId: ID.hdd, bytes: 500_000, tier: 'hdd' },
    ],
    waitRam: true,
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

describe.each(['ram', 'ssd', 'hdd'] as const)('pipelined small ranges from the %s tier', (tier) => {
  it('each answer is its own range, to a reader that pauses', async () => {
    const fileId = ID[tier];
    const data = d.files.get(fileId)!.data;
    const { hostname, port } = new URL(d.origin);
    // mostly 8 KiB, some just over the size small answers are assembled up to (16 KiB); 8 MB in
    // all (under the daemon's 1,000 requests per connection), more than the socket buffers hold
    // while the reader pauses, so writes queue
    const ranges: [number, number][] = [];
    for (let i = 0; i < 900; i++) {
      const len = i % 10 === 9 ? 20_000 + i : 8192 + (i % 7);
      const start = (i * 7919 * 13) % (data.length - len);
      ranges.push([start, start + len - 1]);
    }
    const path = `/v1/f/${fileId}?t=${d.token()}`;
    let all = '';
    ranges.forEach(([a, b], i) => {
      all += `GET ${path} HTTP/1.1\r\nHost: x\r\nRange: bytes=${a}-${b}\r\n${i === ranges.length - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    });
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect(Number(port), hostname, () => s.write(all));
      s.pause();
      setTimeout(() => s.resume(), 300);
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const replies = splitReplies(raw).responses;
    expect(replies.length).toBe(ranges.length);
    replies.forEach((r, i) => {
      const [a, b] = ranges[i];
      expect(r.status, `answer ${i}`).toBe(206);
      expect(r.headers['content-range'], `answer ${i}`).toBe(`bytes ${a}-${b}/${data.length}`);
      if (!r.body.equals(data.subarray(a, b + 1))) throw new Error(`answer ${i} (bytes ${a}-${b}) is not its range`);
    });
  });
});
