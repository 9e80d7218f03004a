// Part (c) of bench:fill pairs each round with the fill with the rounds without it on either side:
// a baseline that drifts between rounds must cancel out, one odd pair must not move the median,
// and a round in which the fill ran out (or one without a bracketing baseline) is not paired.

import { describe, expect, it } from 'vitest';
import { median, viewerPairs, type PairRound } from '../fill/viewer-pairs.ts';

const off = (gbps: number, p99_ms = 10): PairRound => ({ fill: false, gbps, p99_ms });
const on = (gbps: number, p99_ms = 10, fillActiveAtEnd = true): PairRound => ({ fill: true, gbps, p99_ms, fillActiveAtEnd });

describe('viewer pairs', () => {
  it('a baseline drifting from 12 to 19 Gb/s with a steady 5 % loss gives 5 %, not the drift', () => {
    // without 12, 14.5, 17, 19; each "with" is 95 % of the mean of its neighbours
    const rounds = [off(12), on(0.95 * 13.25), off(14.5), on(0.95 * 15.75), off(17), on(0.95 * 18), off(19)];
    const s = viewerPairs(rounds);
    expect(s.pairs.map((p) => p.round)).toEqual([1, 3, 5]);
    for (const p of s.pairs) expect(p.lossPct).toBeCloseTo(5, 2);
    expect(s.lossPct).toBeCloseTo(5, 2);
    expect([s.baselineMinGbps, s.baselineMaxGbps]).toEqual([12, 19]);
  });

  it('the median ignores one odd pair and the spread shows it', () => {
    const rounds = [off(10), on(9.8), off(10), on(5), off(10), on(9.9), off(10)];
    const s = viewerPairs(rounds);
    expect(s.lossPct).toBeCloseTo(2, 2);
    expect(s.lossMinPct).toBeCloseTo(1, 2);
    expect(s.lossMaxPct).toBeCloseTo(50, 2);
  });

  it('p99 increase per pair, median over pairs', () => {
    const s = viewerPairs([off(10, 10), on(10, 15), off(10, 20), on(10, 30), off(10, 20)]);
    expect(s.pairs.map((p) => p.p99IncreasePct)).toEqual([0, 50]);
    expect(s.p99IncreasePct).toBe(25);
  });

  it('a round in which the fill ran out, or without a baseline on both sides, is not paired', () => {
    const s = viewerPairs([on(9), off(10), on(5, 10, false), off(10), on(9.5), off(10), on(8)]);
    expect(s.pairs.map((p) => p.round)).toEqual([4]);
    expect(s.lossPct).toBeCloseTo(5, 2);
    expect(viewerPairs([off(10), off(10)]).lossPct).toBeNull();
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
