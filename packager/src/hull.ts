// The per-title decision, pure: given trial measurements (resolution, bitrate, quality), keep the
// upper convex hull of quality over bitrate across all resolutions (the best resolution for each
// bitrate, with diminishing returns), then pick rungs down the hull by fixed quality steps.
// The hull is taken over linear bitrate, where rate-quality curves are concave, so a chord
// between hull points never promises more quality than the encoder delivers (over log-bitrate
// the low end of a curve is convex and a chord would overestimate it).

export interface TrialPoint {
  width: number;
  height: number;
  /** bits per second actually produced by the trial encode */
  bitrate: number;
  /** the rate the encoder was asked for (simple content undershoots it) */
  targetBitrate: number;
  quality: number;
}

export interface Rung {
  width: number;
  height: number;
  /** bits per second the hull expects the encode to produce */
  bitrate: number;
  /** the rate to ask the encoder for */
  targetBitrate: number;
  /** quality the hull predicts at this bitrate (measured again on the real encode by QA) */
  predictedQuality: number;
}

export interface RungOptions {
  maxQuality: number;
  qualityStep: number;
  minQuality: number;
  maxRungs: number;
  minBitrate: number;
}

function cross(o: TrialPoint, a: TrialPoint, b: TrialPoint): number {
  return (a.bitrate - o.bitrate) * (b.quality - o.quality) - (a.quality - o.quality) * (b.bitrate - o.bitrate);
}

/** Upper-left convex hull: quality never falls as bitrate rises, and the slope only decreases. */
export function convexHull(points: TrialPoint[]): TrialPoint[] {
  const sorted = [...points].filter((p) => p.bitrate > 0 && Number.isFinite(p.quality)).sort((a, b) => a.bitrate - b.bitrate || b.quality - a.quality);
  // Pareto front first: a point that costs more and is no better is never worth it.
  const front: TrialPoint[] = [];
  for (const p of sorted) if (!front.length || p.quality > front[front.length - 1].quality) front.push(p);
  const hull: TrialPoint[] = [];
  for (const p of front) {
    while (hull.length >= 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) >= 0) hull.pop();
    hull.push(p);
  }
  return hull;
}

/**
 * Bitrate and resolution on the hull that reaches quality q (linear between hull points; the
 * resolution is the one of the hull point at or above q, so a rung never interpolates down into
 * a resolution that was not measured to reach it). Undefined when the hull never reaches q.
 */
export function hullAt(hull: TrialPoint[], q: number): Rung | undefined {
  if (!hull.length || q > hull[hull.length - 1].quality) return undefined;
  const first = hull[0];
  if (q <= first.quality) return { width: first.width, height: first.height, bitrate: first.bitrate, targetBitrate: first.targetBitrate, predictedQuality: first.quality };
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1], b = hull[i];
    if (q <= b.quality) {
      const t = (q - a.quality) / (b.quality - a.quality);
      const bitrate = Math.round(a.bitrate + t * (b.bitrate - a.bitrate));
      // The encoder's target at that point: b's target scaled as b undershot or overshot it.
      const targetBitrate = Math.round((bitrate * b.targetBitrate) / b.bitrate);
      return { width: b.width, height: b.height, bitrate, targetBitrate, predictedQuality: q };
    }
  }
  return undefined;
}

/** Rungs from the top quality down in quality steps, highest first. */
export function pickRungs(hull: TrialPoint[], o: RungOptions): Rung[] {
  if (!hull.length) return [];
  const top = Math.min(o.maxQuality, hull[hull.length - 1].quality);
  const rungs: Rung[] = [];
  for (let q = top; q >= o.minQuality && rungs.length < o.maxRungs; q -= o.qualityStep) {
    const r = hullAt(hull, q);
    if (!r) continue;
    if (r.bitrate < o.minBitrate) break;
    const prev = rungs[rungs.length - 1];
    // Two targets that land on the same point of the hull's foot add nothing.
    if (prev && prev.bitrate <= r.bitrate * 1.15) continue;
    rungs.push(r);
    if (q <= hull[0].quality) break;
  }
  return rungs;
}
