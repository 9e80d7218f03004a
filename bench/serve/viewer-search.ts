// The search for the most viewers a server holds: double from `start` until a step fails (or the
// cap passes), then halve the gap between the highest pass and the lowest fail until it is within
// `resolution` of the pass, or the step budget is spent. Each step is one fixed-length run, so
// the whole search is bounded by maxSteps × the step's length.
//
// On a shared machine one noisy step can fail just above a count that passed (the serve bench's
// quiet run: HTTP edgebox failed 10,000 at 96.2 % on time after passing 9,000) and end the search
// there. With `retryWithin`, the lowest failing count is run once more when it is within that
// share above the highest pass, and the rerun's result stands for that count.

export interface SearchSettings {
  start: number;
  max: number;
  maxSteps: number;
  /** stop when (lowest fail − highest pass) ≤ resolution × highest pass */
  resolution: number;
  /** counts are rounded to this */
  granularity: number;
  /** rerun the lowest fail once when it is within this share above the highest pass (0 or absent: never) */
  retryWithin?: number;
}

export interface SearchStep {
  viewers: number;
  pass: boolean;
}

export interface SearchOutcome {
  /** highest passing count below the lowest fail; 0 when nothing passed */
  maxViewers: number;
  /** lowest failing count, if any step failed */
  firstFail: number | null;
  /** the cap passed: the server may hold more than the search could ask */
  capped: boolean;
}

export function outcome(steps: SearchStep[], s: SearchSettings): SearchOutcome {
  // a count run twice (a retried fail) stands on its last run
  const last = new Map<number, boolean>();
  for (const x of steps) last.set(x.viewers, x.pass);
  const fails = [...last].filter(([, pass]) => !pass).map(([n]) => n);
  const firstFail = fails.length > 0 ? Math.min(...fails) : null;
  const passes = [...last].filter(([n, pass]) => pass && (firstFail === null || n < firstFail)).map(([n]) => n);
  const maxViewers = passes.length > 0 ? Math.max(...passes) : 0;
  return { maxViewers, firstFail, capped: firstFail === null && maxViewers >= s.max };
}

/** The next count to try, or undefined when the search is done. */
export function nextViewers(steps: SearchStep[], s: SearchSettings): number | undefined {
  if (steps.length >= s.maxSteps) return undefined;
  const { maxViewers: lo, firstFail: hi, capped } = outcome(steps, s);
  const round = (n: number) => Math.max(s.granularity, Math.round(n / s.granularity) * s.granularity);
  if (capped) return undefined;
  if (hi === null) return steps.length === 0 ? Math.min(s.start, s.max) : Math.min(s.max, round(lo * 2));
  const runsOfHi = steps.filter((x) => x.viewers === hi).length;
  if (s.retryWithin !== undefined && lo > 0 && runsOfHi === 1 && hi - lo <= s.retryWithin * lo) return hi;
  if (lo === 0) {
    if (hi <= s.granularity) return undefined;
    return round(hi / 2) < hi ? round(hi / 2) : undefined;
  }
  if (hi - lo <= Math.max(s.resolution * lo, s.granularity)) return undefined;
  const mid = round((lo + hi) / 2);
  return mid > lo && mid < hi ? mid : undefined;
}
