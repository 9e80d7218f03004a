// The simulation's popularity book: what control's PopularityBook keeps (views per region and
// file, decayed with the configured half-life), fed by control's own heartbeat rule
// (heartbeatViews) and read out as control's plan reads it — decayed to the plan's time, -1 where
// the title is not licensed, raised to promotions by control's raiseToPromotions. Only the
// storage differs: arrays instead of the repository (the simulation has no database), and views
// kept in units of the start time (v ÷ decay(t0 → at)), so recording is O(1) and reading out is one
// multiplication by decay(t0 → now): exactly Σ decayed(v, at, now).

import { decayed, heartbeatViews, raiseToPromotions } from '../../control/src/fill/popularity.ts';
import type { Promotion } from '../../control/src/store/repository.ts';
import type { SimCatalogue } from './catalogue.ts';
import { REGIONS } from './world.ts';

export class SimBook {
  readonly halfLifeMs: number;
  #cat: SimCatalogue;
  #t0: number;
  #views: Float64Array[];
  #titleRegions: readonly string[][];
  /** views recorded, in plays (for the report) */
  recorded = 0;

  constructor(cat: SimCatalogue, titleRegions: readonly string[][], halfLifeMs: number, t0: number) {
    this.#cat = cat;
    this.#t0 = t0;
    this.halfLifeMs = halfLifeMs;
    this.#titleRegions = titleRegions;
    this.#views = REGIONS.map(() => new Float64Array(cat.fileIds.length));
  }

  /** `ms` of playback of title t in region ri at `bitrateKbps`, all at time `at`. */
  record(ri: number, t: number, bitrateKbps: number, ms: number, at: number): void {
    const scale = 1 / decayed(1, this.#t0, at, this.halfLifeMs);
    const views = this.#views[ri];
    const files = this.#cat.contentFiles(t), start = this.#cat.titleStart[t];
    for (const v of heartbeatViews(files, this.#cat.durationMs[t], bitrateKbps, ms)) {
      // the title's files are in catalogue order, and v.fileId is one of their strings: a pointer
      // compare each, where a lookup in a 600,000-entry map cost a cache miss per file
      let i = 0;
      while (files[i].fileId !== v.fileId) i++;
      views[start + i] += v.views * scale;
      this.recorded += v.views;
    }
  }

  /** The planner's popularity for one region at `now`. */
  regional(ri: number, now: number, promotions: readonly Promotion[]): Float64Array {
    const cat = this.#cat;
    const region = REGIONS[ri].name;
    const k = decayed(1, this.#t0, now, this.halfLifeMs);
    const src = this.#views[ri];
    const out = new Float64Array(src.length);
    for (let f = 0; f < src.length; f++) out[f] = src[f] * k;
    for (let t = 0; t < cat.titleIds.length; t++) {
      const allowed = this.#titleRegions[t];
      if (allowed.length > 0 && !allowed.includes(region)) out.fill(-1, cat.titleStart[t], cat.titleStart[t + 1]);
    }
    const map = new Map([[region, out]]);
    raiseToPromotions(cat, map, [region], promotions, now, this.halfLifeMs);
    return out;
  }
}
