// The search for the most viewers a server holds: double from `start` until a step fails (or the
// cap passes), then halve the gap between the highest pass and the lowest fail until it is within
// `resolution` of the pass, or the step budget is spent. Each step is one fixed-length run, so
// the whole search is bounded by maxSteps × the step's length.

export interface SearchSettings {
  start: number;
  max: number;
  maxSteps: number;
  /** stop when (lowest fail − highest pass) ≤ resolution × highest pass */
  resolution: number;
  /** counts are rounded to this */
  granularity: number;
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
  const fails = steps.filter((x) => !x.pass).map((x) => x.viewers);
  const firstFail = fails.length > 0 ? Math.min(...fails) : null;
  const passes = steps.filter((x) => x.pass && (firstFail === null || x.viewers < firstFail)).map((x) => x.viewers);
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
  if (lo === 0) {
    if (hi <= s.granularity) return undefined;
    return round(hi / 2) < hi ? round(hi / 2) : undefined;
  }
  if (hi - lo <= Math.max(s.resolution * lo, s.granularity)) return undefined;
  const mid = round((lo + hi) / 2);
  return mid > lo && mid < hi ? mid : undefined;
}
