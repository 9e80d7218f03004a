// Growth after warm-up: a least-squares slope (per minute) and the difference between the mean
// of the last minute and the mean of the first minute after warm-up, which a single spike moves
// less than max − min.

export interface Trend {
  /** mean over the first minute after warm-up */
  atWarmup: number;
  /** mean over the last minute */
  end: number;
  growth: number;
  slopePerMin: number;
  max: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** points: [seconds, value], only those after warm-up; null with fewer than 2. */
export function trend(points: Array<[number, number]>): Trend | null {
  if (points.length < 2) return null;
  const t0 = points[0][0];
  const tEnd = points.at(-1)![0];
  const first = points.filter(([t]) => t <= t0 + 60).map(([, v]) => v);
  const last = points.filter(([t]) => t >= tEnd - 60).map(([, v]) => v);
  const mt = mean(points.map(([t]) => t));
  const mv = mean(points.map(([, v]) => v));
  let num = 0, den = 0;
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  const atWarmup = mean(first), end = mean(last);
  return { atWarmup: r2(atWarmup), end: r2(end), growth: r2(end - atWarmup), slopePerMin: r2(den > 0 ? (num / den) * 60 : 0), max: r2(Math.max(...points.map(([, v]) => v))) };
}

/** Counts per whole minute since the start, from event times in seconds. */
export function perMinute(times: number[], minutes: number): number[] {
  const out = new Array<number>(Math.max(1, Math.ceil(minutes))).fill(0);
  for (const t of times) out[Math.min(out.length - 1, Math.floor(t / 60))]++;
  return out;
}
