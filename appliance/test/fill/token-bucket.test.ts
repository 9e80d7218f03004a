// The token bucket every download shares, on a virtual clock: the rate holds over a simulated
// minute however many consumers share it and whatever their chunk sizes.

import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/fill/token-bucket.ts';
import { VirtualClock } from './helpers/virtual-clock.ts';

const MB = 1_000_000;

/** N consumers taking chunks as fast as the bucket lets them, for `ms` of virtual time. */
async function drain(bucket: TokenBucket, clock: VirtualClock, chunks: number[], ms: number): Promise<number[]> {
  const end = clock.now() + ms;
  const got = chunks.map(() => 0);
  let running = true;
  const consumers = chunks.map(async (size, i) => {
    while (running) {
      await bucket.take(size);
      if (!running || clock.now() > end) break;
      got[i] += size;
    }
  });
  await clock.run(end);
  running = false;
  await clock.run(end + 10_000); // wake the sleepers so they see the end
  await Promise.all(consumers);
  return got;
}

describe('TokenBucket', () => {
  it.each([
    { name: 'one consumer, 64 KiB chunks, 10 MB/s', rate: 10 * MB, chunks: [65_536] },
    { name: 'eight consumers, mixed chunks, 37.5 MB/s (300 Mb/s)', rate: 37.5 * MB, chunks: [65_536, 16_384, 1 << 20, 4096, 65_536, 200_000, 65_536, 32_768] },
    { name: 'four consumers, chunks larger than a burst, 1 MB/s', rate: 1 * MB, chunks: [1 << 20, 1 << 20, 1 << 20, 1 << 20] },
  ])('$name: the rate over a simulated minute is within ±5%', async ({ rate, chunks }) => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(rate, clock);
    const got = await drain(bucket, clock, chunks, 60_000);
    const total = got.reduce((a, b) => a + b, 0);
    expect(Math.abs(total / 60 - rate) / rate).toBeLessThan(0.05);
    // shared: every consumer got some of it
    for (const g of got) expect(g).toBeGreaterThan(0);
  });

  it('rate 0 is unlimited: nothing waits', () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(0, clock);
    for (let i = 0; i < 1000; i++) expect(bucket.reserve(1 << 20)).toBe(0);
  });

  it('a rate change applies from then on, and an idle spell banks no more than the burst', async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(1 * MB, clock, 100);
    await clock.run(clock.now() + 3_600_000); // idle for an hour
    expect(bucket.reserve(100_000)).toBe(0); // 100 ms of rate banked
    expect(bucket.reserve(100_000)).toBeCloseTo(100, 5); // and no more
    bucket.setRate(4 * MB);
    const first = await drain(bucket, clock, [65_536, 65_536], 30_000);
    expect(Math.abs(first.reduce((a, b) => a + b, 0) / 30 - 4 * MB) / (4 * MB)).toBeLessThan(0.05);
  });
});
