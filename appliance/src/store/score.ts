// A file's score decides its place: RAM admission, SSD vs HDD, and who is evicted first.
//
//   demand(t)  = Σ (bytes served ÷ file size) · 2^(-(t - t_served) / halfLife)
//                ("equivalent whole reads", exponentially decayed; kept as one value + timestamp)
//   pop(rank)  = 1 / (1 + rank / rankScale)              rank 0 = control's most popular file;
//                                                        no rank yet → 0
//   local(d)   = d / (d + demandScale)                   saturates: 0 → 0, demandScale → 0.5
//   score      = popularityWeight · pop + (1 − popularityWeight) · local       ∈ [0, 1)
//
// Both halves are bounded so neither can swamp the other, and a single whole read of a file
// nobody ranked (a scan, a one-hit wonder) scores (1 − w) · 1/(1 + demandScale): with the
// defaults 0.167, under the RAM threshold of 0.2, which two whole reads (0.25) pass. Swaps between
// tiers need a lead of `promoteMargin` (0.02) so near-equal files do not trade places.

export interface ScoreSettings {
  popularityWeight: number;
  rankScale: number;
  demandScale: number;
  demandHalfLifeMs: number;
}

export const DEFAULT_SCORE_SETTINGS: ScoreSettings = {
  popularityWeight: 0.5,
  rankScale: 100,
  demandScale: 2,
  demandHalfLifeMs: 6 * 3600_000,
};

/** The decayed demand value at `now` of a value recorded at `at`. */
export function decayDemand(value: number, at: number, now: number, halfLifeMs: number): number {
  if (value === 0 || now <= at) return value;
  return value * Math.pow(2, -(now - at) / halfLifeMs);
}

export function popularityOfRank(rank: number | null, rankScale: number): number {
  if (rank === null || !(rank >= 0)) return 0;
  return 1 / (1 + rank / rankScale);
}

export function scoreOf(rank: number | null, demandNow: number, s: ScoreSettings): number {
  const local = demandNow / (demandNow + s.demandScale);
  return s.popularityWeight * popularityOfRank(rank, s.rankScale) + (1 - s.popularityWeight) * local;
}
