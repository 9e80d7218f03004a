// What viewers want, day by day: Zipf popularity over the back catalogue (a random rank per
// title) that drifts every day (a log-normal random walk per title), a per-region taste factor,
// some titles licensed in one or two regions only, and new releases — each a hit of random
// size from its release day, fading with a half-life, most announced ahead by a promotion whose
// expected views are the operator's guess (log-normal error). Sessions start on each region's
// local evening curve.

import type { Promotion } from '../../control/src/store/repository.ts';
import type { SimCatalogue } from './catalogue.ts';
import type { SimOptions } from './options.ts';
import { gauss, REGIONS } from './world.ts';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** Relative viewing by local hour: low before dawn, an evening peak at 20–22. */
export const DIURNAL = [0.35, 0.2, 0.12, 0.08, 0.06, 0.06, 0.08, 0.12, 0.18, 0.22, 0.26, 0.3, 0.34, 0.36, 0.38, 0.42, 0.5, 0.6, 0.75, 0.9, 1.0, 1.0, 0.85, 0.6];
const DIURNAL_SUM = DIURNAL.reduce((a, b) => a + b, 0);
/** a session watches min(duration, this median × log-normal) */
const WATCH_MEDIAN_MS = 40 * 60_000;
const WATCH_SIGMA = 0.8;
/** E[watched ÷ duration], for the promotion's expectation */
const WATCH_FRACTION = 0.6;

export interface Release { title: number; day: number; promotion?: Promotion; visibleFrom: number }

export class Demand {
  readonly releases: Release[] = [];
  /** per title: the regions it may be played in (empty = everywhere), as the catalogue says */
  readonly titleRegions: string[][];
  #o: SimOptions;
  #r: () => number;
  #base: Float64Array;
  #logDrift: Float64Array;
  #taste: Float64Array[];
  #releaseOf: Int32Array;
  #peak: Float64Array;
  #t0: number;
  /** per region, cumulative weights over titles for the current day */
  cum: Float64Array[] = [];
  day = Number.NaN;

  constructor(cat: SimCatalogue, o: SimOptions, r: () => number, t0: number) {
    const T = cat.titleIds.length;
    this.#o = o;
    this.#r = r;
    this.#t0 = t0;
    this.#base = new Float64Array(T);
    this.#logDrift = new Float64Array(T);
    this.#peak = new Float64Array(T);
    this.#releaseOf = new Int32Array(T).fill(-1);
    this.#taste = REGIONS.map(() => Float64Array.from({ length: T }, () => Math.exp(o.regionSigma * gauss(r))));
    this.titleRegions = Array.from({ length: T }, () => {
      if (r() >= o.regionalTitleShare) return [];
      const a = REGIONS[Math.floor(r() * REGIONS.length)].name;
      const b = REGIONS[Math.floor(r() * REGIONS.length)].name;
      return a === b ? [a] : [a, b];
    });
    // releases: titles drawn from the catalogue, from the first warm-up day to the last day
    const order = Array.from({ length: T }, (_, i) => i);
    for (let i = T - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let next = 0;
    for (let day = -o.warmupDays; day < o.days; day++) {
      for (let k = 0; k < o.releasesPerDay && next < T / 4; k++) {
        const t = order[next++];
        this.#releaseOf[t] = this.releases.length;
        // a hit somewhere between the catalogue's #1 and #300
        this.#peak[t] = Math.pow(Math.exp(r() * Math.log(300)), -o.zipfExponent);
        const rel: Release = { title: t, day, visibleFrom: t0 + (day - o.promotionLeadDays) * DAY_MS };
        if (r() < o.promotedShare) {
          const avgRegionPlays = (o.sessionsPerDay / REGIONS.length) * this.#peak[t] * WATCH_FRACTION / harmonic(T, o.zipfExponent);
          rel.promotion = {
            titleId: cat.titleIds[t], regions: this.titleRegions[t], releaseAt: t0 + day * DAY_MS,
            // the operator's guess of the title's first days, in the book's units (views)
            expectedViews: 5 * avgRegionPlays * Math.exp(o.promotionSigma * gauss(r)),
          };
        }
        this.releases.push(rel);
      }
    }
    // the back catalogue: Zipf over a random rank
    for (let i = next, k = 1; i < T; i++, k++) this.#base[order[i]] = Math.pow(k, -o.zipfExponent);
  }

  /** Promotions control holds at `now` (put some days before release; kept afterwards). */
  promotions(now: number): Promotion[] {
    const out: Promotion[] = [];
    for (const rel of this.releases) if (rel.promotion && now >= rel.visibleFrom) out.push(rel.promotion);
    return out;
  }

  isRelease(t: number): boolean { return this.#releaseOf[t] >= 0; }
  releaseDay(t: number): number { return this.#releaseOf[t] < 0 ? -Infinity : this.releases[this.#releaseOf[t]].day; }

  /** Move to `day` (drift applied once per day passed) and rebuild each region's title weights. */
  setDay(day: number): void {
    if (this.day === day) return;
    if (!Number.isNaN(this.day) && day < this.day) throw new Error('days only move forward');
    const o = this.#o, r = this.#r;
    const steps = Number.isNaN(this.day) ? 0 : day - this.day;
    for (let s = 0; s < steps; s++) for (let t = 0; t < this.#logDrift.length; t++) this.#logDrift[t] += o.driftSigma * gauss(r);
    this.day = day;
    const T = this.#base.length;
    this.cum = REGIONS.map((reg, ri) => {
      const cum = new Float64Array(T);
      const taste = this.#taste[ri];
      let acc = 0;
      for (let t = 0; t < T; t++) {
        const allowed = this.titleRegions[t];
        if (allowed.length === 0 || allowed.includes(reg.name)) {
          let w = this.#base[t];
          const rel = this.#releaseOf[t];
          if (rel >= 0) {
            const age = day - this.releases[rel].day;
            w = age < 0 ? 0 : this.#peak[t] * Math.pow(2, -age / o.releaseHalfLifeDays);
          }
          acc += w * Math.exp(this.#logDrift[t]) * taste[t];
        }
        cum[t] = acc;
      }
      return cum;
    });
  }

  /** Sessions starting in region ri in an hour at `localHour` there (the fraction is carried in `carry`). */
  sessionsInHour(ri: number, localHour: number, carry: Float64Array): number {
    const want = this.#o.sessionsPerDay * REGIONS[ri].weight * DIURNAL[localHour] / DIURNAL_SUM + carry[ri];
    const n = Math.floor(want);
    carry[ri] = want - n;
    return n;
  }

  watchMs(durationMs: number): number {
    return Math.min(durationMs, WATCH_MEDIAN_MS * Math.exp(WATCH_SIGMA * gauss(this.#r)));
  }

  get t0(): number { return this.#t0; }
}

function harmonic(n: number, s: number): number {
  let h = 0;
  for (let k = 1; k <= n; k++) h += Math.pow(k, -s);
  return h;
}
