// Every appliance's store as the simulation keeps it, and how it changes: the nightly plan from
// control's planner (SitePlanner, one site at a time), then fill within the window at the rate
// limit, as the appliance's fill engine does it (appliance/src/fill/engine.ts, eviction.ts):
// missing planned files in the plan's rank order; a file needing room evicts files the plan no
// longer lists, least popular first; once every planned file is in, the rest of those go. A
// transfer cut by the window's end resumes in the next window if the file is still next.
//
// Holdings are one bit mask word per (appliance, title) (titles have ≤ 32 files). Steering is
// told, through control's FileHolders, when an appliance holds a title whole — the only thing
// steering asks ("every file of the title") — with one column per title: one per file would
// make the holder matrix 600,000 columns × 10,000 rows (2 GB after its power-of-two growth).

import { SitePlanner } from '../../control/src/fill/planner.ts';
import type { ApplianceAssignment, PlanAppliance, RegionRanking } from '../../control/src/fill/planner.ts';
import type { Fleet } from '../../control/src/steering/fleet.ts';
import type { SimCatalogue } from './catalogue.ts';
import type { SimOptions } from './options.ts';
import type { SimWorld } from './world.ts';
import { REGIONS } from './world.ts';

export interface NightFigures {
  fillBytes: number;
  evictedBytes: number;
  filesAdded: number;
  /** appliances that wanted a file but had no room even after evicting every unwanted file */
  blockedNoSpace: number;
  plannedAddBytes: number;
}

const NO_HOLDS: ReadonlySet<string> = new Set();

export class Stores {
  readonly mask: Uint32Array[];
  readonly used: Float64Array;
  readonly cap: Float64Array;
  /** per site, one bit per title: the last plan placed it on some appliance there */
  readonly placed: Uint32Array[];
  /** per region: views per title of its last ranking (what the planner knew) */
  readonly planViews: Float64Array[];
  /** fill bytes per appliance in the current window, and the largest share of the window's bound seen */
  readonly windowFill: Float64Array;
  maxFillOfBound = 0;
  maxUsedOfCap = 0;
  #missing: Uint32Array[];
  #cursor: Int32Array;
  #unwanted: Uint32Array[];
  #ucursor: Int32Array;
  #partial: Float64Array;
  #partialFile: Int32Array;
  #planned: Uint32Array;
  #cat: SimCatalogue;
  #w: SimWorld;
  #o: SimOptions;
  #fleet: Fleet;
  #titleFiles: string[][];
  #planner: SitePlanner | undefined;
  #warmPlanner: SitePlanner | undefined;

  constructor(cat: SimCatalogue, w: SimWorld, o: SimOptions) {
    const n = w.apps.length, T = cat.titleIds.length;
    this.#cat = cat;
    this.#w = w;
    this.#o = o;
    this.#fleet = w.fleet;
    this.mask = Array.from({ length: n }, () => new Uint32Array(T));
    this.used = new Float64Array(n);
    this.cap = new Float64Array(n);
    for (const s of w.sites) for (const slot of s.slots) this.cap[slot] = s.storeBytes;
    this.placed = w.sites.map(() => new Uint32Array((T + 31) >>> 5));
    this.planViews = REGIONS.map(() => new Float64Array(T));
    this.windowFill = new Float64Array(n);
    this.#missing = Array.from({ length: n }, () => new Uint32Array(0));
    this.#cursor = new Int32Array(n);
    this.#unwanted = Array.from({ length: n }, () => new Uint32Array(0));
    this.#ucursor = new Int32Array(n);
    this.#partial = new Float64Array(n);
    this.#partialFile = new Int32Array(n).fill(-1);
    this.#planned = new Uint32Array(T);
    this.#titleFiles = cat.titleIds.map((id) => [id]);
  }

  /** What steering is asked for title t: its one holder column (see the header). */
  steeringFiles(t: number): readonly string[] { return this.#titleFiles[t]; }

  #heldFiles(slot: number): Uint32Array {
    const m = this.mask[slot], start = this.#cat.titleStart;
    let n = 0;
    for (let t = 0; t < m.length; t++) if (m[t] !== 0) n += popcount(m[t]);
    const out = new Uint32Array(n);
    for (let t = 0, k = 0; t < m.length; t++) {
      let b = m[t];
      while (b !== 0) {
        const low = b & -b;
        out[k++] = start[t] + 31 - Math.clz32(low);
        b ^= low;
      }
    }
    return out;
  }

  /**
   * Plan every site of region ri with its popularity now; each appliance takes its plan on.
   * `warm`: no churn limit (the warm start). One planner per kind for the whole run, so the
   * catalogue's hashes are made once.
   */
  plan(ri: number, views: Float64Array, warm: boolean): NightFigures {
    const churnFraction = warm ? 1 : this.#o.churnFraction;
    const planner = warm
      ? (this.#warmPlanner ??= new SitePlanner(this.#cat, new Map(), { headroom: this.#o.headroom, churnFraction }))
      : (this.#planner ??= new SitePlanner(this.#cat, new Map(), { headroom: this.#o.headroom, churnFraction }));
    const region = REGIONS[ri].name;
    planner.setPopularity(region, views);
    const ranking = planner.ranking(region);
    this.planViews[ri].set(ranking.titleViews);
    const fig: NightFigures = { fillBytes: 0, evictedBytes: 0, filesAdded: 0, blockedNoSpace: 0, plannedAddBytes: 0 };
    const out = new Map<string, ApplianceAssignment>();
    this.#w.sites.forEach((s, si) => {
      if (s.regionIndex !== ri) return;
      const appliances: PlanAppliance[] = s.slots.map((slot) => ({
        id: this.#w.apps[slot].id, ssdBytes: this.cap[slot] * this.#o.ssdShare, hddBytes: this.cap[slot] * (1 - this.#o.ssdShare),
        holds: NO_HOLDS, heldFiles: this.#heldFiles(slot),
      }));
      out.clear();
      planner.site({ siteId: s.site.siteId, region, appliances }, out);
      this.placed[si].fill(0);
      for (const slot of s.slots) {
        const a = out.get(this.#w.apps[slot].id);
        if (!a) throw new Error(`no assignment for ${this.#w.apps[slot].id}`);
        fig.plannedAddBytes += a.addBytes;
        this.#take(slot, si, a, ranking);
      }
    });
    return fig;
  }

  /** The appliance's new plan: what is missing (rank order), what is no longer wanted (eviction order). */
  #take(slot: number, si: number, a: ApplianceAssignment, ranking: RegionRanking): void {
    const { titleOf, titleStart } = this.#cat;
    const m = this.mask[slot], planned = this.#planned, placed = this.placed[si];
    let nMissing = 0, nUnwanted = 0;
    for (let i = 0; i < a.files.length; i++) {
      const f = a.files[i], t = titleOf[f], bit = 1 << (f - titleStart[t]);
      planned[t] |= bit;
      placed[t >>> 5] |= 1 << (t & 31);
      if ((m[t] & bit) === 0) nMissing++;
    }
    for (let t = 0; t < m.length; t++) if ((m[t] & ~planned[t]) !== 0) nUnwanted += popcount(m[t] & ~planned[t]);
    const missing = new Uint32Array(nMissing);
    for (let i = 0, k = 0; i < a.files.length; i++) {
      const f = a.files[i], t = titleOf[f];
      if ((m[t] & (1 << (f - titleStart[t]))) === 0) missing[k++] = f;
    }
    const unwanted = new Uint32Array(nUnwanted);
    for (let t = 0, k = 0; k < nUnwanted; t++) {
      let b = m[t] & ~planned[t];
      while (b !== 0) {
        const low = b & -b;
        unwanted[k++] = titleStart[t] + 31 - Math.clz32(low);
        b ^= low;
      }
    }
    for (let i = 0; i < a.files.length; i++) planned[titleOf[a.files[i]]] = 0;
    // least popular first; files not available in the region (rank -1) before all
    const rank = ranking.rank;
    const key = (f: number) => (rank[f] < 0 ? 0x7fffffff : rank[f]);
    unwanted.sort((x, y) => key(y) - key(x) || x - y);
    this.#missing[slot] = missing;
    this.#cursor[slot] = 0;
    this.#unwanted[slot] = unwanted;
    this.#ucursor[slot] = 0;
    if (missing[0] !== this.#partialFile[slot]) {
      this.#partial[slot] = 0;
      this.#partialFile[slot] = -1;
    }
  }

  /** A new window: the per-window fill count starts again. */
  openWindow(slot: number): void { this.windowFill[slot] = 0; }

  /**
   * Fill for `budget` bytes (rate × open seconds of this step). `bound` is the window's whole
   * allowance (rate × window length), checked, not enforced: the budget per step enforces it.
   */
  fill(slot: number, budget: number, bound: number, fig: NightFigures): void {
    const { titleOf, titleStart, fileBytes, fullMask } = this.#cat;
    const missing = this.#missing[slot], m = this.mask[slot];
    let credit = budget;
    while (this.#cursor[slot] < missing.length && credit > 0) {
      const f = missing[this.#cursor[slot]];
      const t = titleOf[f], bit = 1 << (f - titleStart[t]), b = fileBytes[f];
      if (this.#partialFile[slot] !== f) {
        // a download starts only with room for the whole file (the engine's roomFromUnwanted)
        if (!this.#makeRoom(slot, b, fig)) {
          fig.blockedNoSpace++;
          break;
        }
        this.#partialFile[slot] = f;
        this.#partial[slot] = 0;
      }
      const step = Math.min(credit, b - this.#partial[slot]);
      credit -= step;
      this.#partial[slot] += step;
      this.windowFill[slot] += step;
      fig.fillBytes += step;
      if (this.#partial[slot] < b) break;
      this.#partialFile[slot] = -1;
      this.#partial[slot] = 0;
      this.#cursor[slot]++;
      m[t] |= bit;
      this.used[slot] += b;
      fig.filesAdded++;
      if (m[t] === fullMask[t]) this.#fleet.holders.add(this.#titleFiles[t][0], slot);
    }
    if (this.#cursor[slot] === missing.length) {
      // every planned file is in: what it replaces goes (the engine's evictReplaced)
      while (this.#ucursor[slot] < this.#unwanted[slot].length) this.#evictNext(slot, fig);
    }
    const u = this.used[slot] / this.cap[slot];
    if (u > this.maxUsedOfCap) this.maxUsedOfCap = u;
    const w = this.windowFill[slot] / bound;
    if (w > this.maxFillOfBound) this.maxFillOfBound = w;
  }

  /** Everything planned, at once (the warm start: the fleet as weeks of fills left it). */
  fillAll(slot: number, fig: NightFigures): void {
    this.fill(slot, Infinity, Infinity, fig);
    this.windowFill[slot] = 0;
  }

  #makeRoom(slot: number, bytes: number, fig: NightFigures): boolean {
    while (this.used[slot] + bytes > this.cap[slot]) {
      if (this.#ucursor[slot] >= this.#unwanted[slot].length) return false;
      this.#evictNext(slot, fig);
    }
    return true;
  }

  #evictNext(slot: number, fig: NightFigures): void {
    const { titleOf, titleStart, fileBytes, fullMask } = this.#cat;
    const f = this.#unwanted[slot][this.#ucursor[slot]++];
    const t = titleOf[f], bit = 1 << (f - titleStart[t]), m = this.mask[slot];
    if ((m[t] & bit) === 0) return;
    if (m[t] === fullMask[t]) this.#fleet.holders.remove(this.#titleFiles[t][0], slot);
    m[t] &= ~bit;
    this.used[slot] -= fileBytes[f];
    fig.evictedBytes += fileBytes[f];
  }

  /** Bytes held per appliance recomputed from the masks (a check on `used`). */
  recount(slot: number): number {
    const m = this.mask[slot], { titleStart, fileBytes } = this.#cat;
    let sum = 0;
    for (let t = 0; t < m.length; t++) {
      let b = m[t];
      while (b !== 0) {
        const low = b & -b;
        sum += fileBytes[titleStart[t] + 31 - Math.clz32(low)];
        b ^= low;
      }
    }
    return sum;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
