// Part (c)'s figure from alternating rounds: without, with, without, with, … without. Each round
// with the fill is compared with the mean of the two rounds without it on either side, and the
// figure is the median of those per-pair losses. On the 2-core bench box the viewers' own
// throughput swung 12–19 Gb/s between two rounds without any fill (CPU placement, the other
// processes, the page cache), so one "with" round against the pooled "without" rounds measured
// mostly that swing (the same code gave 13.9 % and 1.2 %). Bracketing each "with" round cancels a
// drift, and the median of several pairs discards one odd round; the spread is reported beside it.

import { round3 } from '../serve/measurement.ts';

export interface PairRound {
  fill: boolean;
  gbps: number;
  p99_ms: number;
  /** with fill: false when the fill stopped (ran out of files) before the round ended */
  fillActiveAtEnd?: boolean;
}

export interface ViewerPair {
  /** index of the "with" round in the rounds' order */
  round: number;
  /** mean of the rounds without fill just before and just after it */
  baselineGbps: number;
  withGbps: number;
  /** (baseline − with) ÷ baseline, percent */
  lossPct: number;
  baselineP99_ms: number;
  withP99_ms: number;
  p99IncreasePct: number;
}

export interface PairSummary {
  pairs: ViewerPair[];
  /** median of the pairs' losses (null: no usable pair) */
  lossPct: number | null;
  p99IncreasePct: number | null;
  lossMinPct: number | null;
  lossMaxPct: number | null;
  /** the rounds without fill: lowest and highest Gb/s — the swing the pairing is there to cancel */
  baselineMinGbps: number | null;
  baselineMaxGbps: number | null;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pctChange = (from: number, to: number) => (from > 0 ? ((to - from) / from) * 100 : 0);

/**
 * Pair every "with" round that has a round without fill right before and right after it, and
 * whose fill ran to its end (a round in which the fill ran out is partly a round without).
 */
export function viewerPairs(rounds: PairRound[]): PairSummary {
  const pairs: ViewerPair[] = [];
  rounds.forEach((r, i) => {
    const before = rounds[i - 1];
    const after = rounds[i + 1];
    if (!r.fill || r.fillActiveAtEnd === false || !before || !after || before.fill || after.fill) return;
    const baselineGbps = (before.gbps + after.gbps) / 2;
    const baselineP99 = (before.p99_ms + after.p99_ms) / 2;
    pairs.push({
      round: i,
      baselineGbps: round3(baselineGbps),
      withGbps: r.gbps,
      lossPct: round3(-pctChange(baselineGbps, r.gbps)),
      baselineP99_ms: round3(baselineP99),
      withP99_ms: r.p99_ms,
      p99IncreasePct: round3(pctChange(baselineP99, r.p99_ms)),
    });
  });
  const losses = pairs.map((p) => p.lossPct);
  const baseline = rounds.filter((r) => !r.fill).map((r) => r.gbps);
  const m = (xs: number[]) => { const v = median(xs); return v === null ? null : round3(v); };
  return {
    pairs,
    lossPct: m(losses),
    p99IncreasePct: m(pairs.map((p) => p.p99IncreasePct)),
    lossMinPct: losses.length ? Math.min(...losses) : null,
    lossMaxPct: losses.length ? Math.max(...losses) : null,
    baselineMinGbps: baseline.length ? Math.min(...baseline) : null,
    baselineMaxGbps: baseline.length ? Math.max(...baseline) : null,
  };
}
