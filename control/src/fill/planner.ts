// The fill planner: which files each appliance should hold, on which disk tier. A pure function
// over plain data (no network, no database, no clock of its own), so the fleet simulation can
// drive it with thousands of appliances. Deterministic: rendezvous hashing decides and ties fall
// back to catalogue order, so it needs no randomness.
//
// Per region, titles and files are ranked by smoothed popularity (ranking.ts). Per site, titles
// are placed whole: steering sends a viewer only to an appliance holding every file of the
// title, so a copy of half a title serves nobody. In rank order each title gets
// round(N × views ÷ the region's top views) copies, at least 1 and at most the site's N
// appliances, on its appliances of highest random weight (rendezvous hashing weighted by
// capacity); a full one is skipped, not replaced, so what an appliance holds depends on its own
// share only and an appliance joining or leaving moves about its share. Room left after that goes
// first to titles that found none, then to extra copies, level by level in rank order (every
// title a 2nd copy before any gets a 3rd), each on the next appliance in hash order with room.
// Per plan an appliance may be given at most `churnFraction` of its store in files it does not
// hold (or a single title, if that is larger); a copy refused for that lands on the next appliance in hash order, which is usually the
// one holding it now. Within an appliance the hottest files go to SSD, the rest to HDD.
//
// Cost per site: O(titles × copies × N) hashing, N being the site's appliance count (tens), plus
// one sort per region and a bitmap walk per appliance; scratch arrays are shared between sites.

import { affinity, fnv1a } from '../steering/appliance-state.ts';
import { TIER_HDD, TIER_SSD } from './plan-types.ts';
import type { ApplianceAssignment, FillPlan, PlanInput, PlanOptions, PlanSite, PlanStats, SiteStats, PlanAppliance } from './plan-types.ts';
import { rankRegion } from './ranking.ts';
import type { PlanCatalog, RegionRanking } from './ranking.ts';

export * from './plan-types.ts';
export type { PlanCatalog, RegionRanking } from './ranking.ts';

/** Per-plan state shared by all sites: catalogue hashes and sizes, and a reusable held-file bitmap. */
interface Shared {
  catalog: PlanCatalog;
  fileIndex: Map<string, number>;
  titleHash: Uint32Array;
  titleBytes: Float64Array;
  /** bit a of word fileIndex × words + (a >>> 5): appliance a of the current site holds the file */
  held: Uint32Array;
  /** one bit per rank: sorts an appliance's files by rank in O(files ÷ 32 + n) */
  rankBits: Uint32Array;
  o: PlanOptions;
}

/**
 * The planner one site at a time, for callers that consume each site's assignments and drop them
 * (the fleet simulation): catalogue hashes, region rankings and scratch arrays are shared.
 */
export class SitePlanner {
  readonly regions = new Map<string, RegionRanking>();
  #sh: Shared;
  #popularity: Map<string, Float64Array>;

  constructor(catalog: PlanCatalog, popularity: ReadonlyMap<string, Float64Array>, o: PlanOptions) {
    const T = catalog.titleIds.length;
    const fileIndex = new Map<string, number>();
    for (let f = 0; f < catalog.fileIds.length; f++) fileIndex.set(catalog.fileIds[f], f);
    this.#sh = {
      catalog, o, fileIndex, titleHash: new Uint32Array(T), titleBytes: new Float64Array(T),
      held: new Uint32Array(catalog.fileIds.length), rankBits: new Uint32Array((catalog.fileIds.length + 31) >>> 5),
    };
    for (let t = 0; t < T; t++) {
      this.#sh.titleHash[t] = fnv1a(catalog.titleIds[t]);
      for (let f = catalog.titleStart[t]; f < catalog.titleStart[t + 1]; f++) this.#sh.titleBytes[t] += catalog.fileBytes[f];
    }
    this.#popularity = new Map(popularity);
  }

  /**
   * A region's popularity changed: its ranking is made afresh. For the fleet simulation, which
   * plans night after night and would otherwise rebuild the catalogue's hashes for each plan.
   */
  setPopularity(region: string, views: Float64Array): void {
    this.#popularity.set(region, views);
    this.regions.delete(region);
  }

  ranking(region: string): RegionRanking {
    let r = this.regions.get(region);
    if (!r) {
      const catalog = this.#sh.catalog;
      r = rankRegion(catalog, this.#popularity.get(region) ?? new Float64Array(catalog.fileIds.length));
      this.regions.set(region, r);
    }
    return r;
  }

  /** place one site; its appliances' assignments go into `out` */
  site(site: PlanSite, out: Map<string, ApplianceAssignment>): SiteStats & { filesPlaced: number } {
    return placeSite(this.#sh, site, this.ranking(site.region), out);
  }
}

export function planFill(input: PlanInput, o: PlanOptions): FillPlan {
  const planner = new SitePlanner(input.catalog, input.popularity, o);
  const appliances = new Map<string, ApplianceAssignment>();
  const stats: PlanStats = { sites: 0, appliances: 0, titlesPlaced: 0, titlesUnplaced: 0, filesPlaced: 0, copies: 0, plannedBytes: 0, addBytes: 0, perSite: [] };
  for (const site of input.sites) {
    const s = planner.site(site, appliances);
    stats.sites++;
    stats.appliances += s.appliances;
    stats.titlesPlaced += s.titlesPlaced;
    stats.titlesUnplaced += s.titlesUnplaced;
    stats.copies += s.copies;
    stats.filesPlaced += s.filesPlaced;
    stats.perSite.push({ siteId: s.siteId, appliances: s.appliances, titlesPlaced: s.titlesPlaced, titlesUnplaced: s.titlesUnplaced, copies: s.copies });
  }
  for (const a of appliances.values()) {
    stats.plannedBytes += a.plannedBytes;
    stats.addBytes += a.addBytes;
  }
  return { catalog: input.catalog, regions: planner.regions, appliances, stats };
}

function placeSite(sh: Shared, site: PlanSite, ranking: RegionRanking, out: Map<string, ApplianceAssignment>): SiteStats & { filesPlaced: number } {
  const { catalog, titleHash, titleBytes, o } = sh;
  const { titleStart, fileBytes } = catalog;
  const apps = site.appliances;
  const N = apps.length;
  const order = ranking.titles;
  const s = { siteId: site.siteId, appliances: N, titlesPlaced: 0, titlesUnplaced: 0, copies: 0, filesPlaced: 0 };
  if (N === 0) return s;

  const words = (N + 31) >>> 5;
  if (sh.held.length < catalog.fileIds.length * words) sh.held = new Uint32Array(catalog.fileIds.length * words);
  const held = sh.held;
  markHeld(sh, apps, words, true);

  const keep = 1 - o.headroom;
  const cap = new Float64Array(N), used = new Float64Array(N), budget = new Float64Array(N), churn = new Float64Array(N);
  const appHash = new Uint32Array(N);
  for (let a = 0; a < N; a++) {
    const store = apps[a].ssdBytes + apps[a].hddBytes;
    cap[a] = store * keep;
    budget[a] = store * o.churnFraction;
    appHash[a] = fnv1a(apps[a].id);
  }
  // per position i in the ranked title order: copies so far, and on which appliances
  const copies = new Uint16Array(order.length);
  const holders: number[][] = new Array(order.length);
  const placedOn: number[][] = apps.map(() => []);
  const weight = new Float64Array(N);
  const passed = new Int32Array(N).fill(-1);
  let maxFree = 0;
  const refreshMaxFree = () => {
    maxFree = 0;
    for (let a = 0; a < N; a++) if (cap[a] - used[a] > maxFree) maxFree = cap[a] - used[a];
  };
  refreshMaxFree();
  const newBytes = (a: number, t: number): number => {
    const w = a >>> 5, bit = 1 << (a & 31);
    let b = 0;
    for (let f = titleStart[t]; f < titleStart[t + 1]; f++) if ((held[f * words + w] & bit) === 0) b += fileBytes[f];
    return b;
  };
  /**
   * Add up to `want` copies of the title at position i. Strictly, only its `want` heaviest
   * appliances are asked (one that is full or out of churn budget is skipped, not replaced), so
   * what an appliance holds depends on its own share and not on how full the others are; with
   * `spill`, the next heaviest with room take the copy instead.
   */
  const place = (i: number, want: number, spill: boolean): number => {
    const t = order[i];
    const tb = titleBytes[t];
    if (tb > maxFree) return 0;
    // weighted rendezvous: an appliance's share of titles is proportional to its capacity
    for (let a = 0; a < N; a++) weight[a] = cap[a] / -Math.log((affinity(titleHash[t], appHash[a]) + 1) / 4294967297);
    // `passed` holds the position of the last title that tried the appliance, so it needs no reset
    const on = holders[i];
    if (on !== undefined) for (const a of on) passed[a] = i;
    let added = 0, asked = 0;
    while (added < want && (spill || asked < want)) {
      let best = -1;
      for (let a = 0; a < N; a++) {
        if (passed[a] === i || (spill && used[a] + tb > cap[a])) continue;
        if (best < 0 || weight[a] > weight[best]) best = a;
      }
      if (best < 0) break;
      passed[best] = i;
      asked++;
      if (used[best] + tb > cap[best]) continue;
      const nb = newBytes(best, t);
      // the budget may be overrun by one title, so a title larger than it still gets in
      if (nb > 0 && churn[best] > 0 && churn[best] + nb > budget[best]) continue;
      used[best] += tb;
      churn[best] += nb;
      placedOn[best].push(t);
      (holders[i] ??= []).push(best);
      added++;
    }
    copies[i] += added;
    if (added > 0) refreshMaxFree();
    return added;
  };

  // The working set on each title's own appliances, then what is left: titles that found no room
  // there first, then one more copy per title per level while any title gains one.
  const top = order.length > 0 ? ranking.titleViews[order[0]] : 0;
  for (let i = 0; i < order.length; i++) {
    place(i, top > 0 ? Math.min(N, Math.max(1, Math.round((N * ranking.titleViews[order[i]]) / top))) : 1, false);
  }
  for (let level = 1; level <= N; level++) {
    let addedAny = false;
    for (let i = 0; i < order.length; i++) if (copies[i] === level - 1 && place(i, 1, true) > 0) addedAny = true;
    if (!addedAny && level > 1) break;
  }

  for (let i = 0; i < order.length; i++) {
    if (copies[i] === 0) { s.titlesUnplaced++; continue; }
    const files = titleStart[order[i] + 1] - titleStart[order[i]];
    s.titlesPlaced++;
    s.copies += copies[i] * files;
    s.filesPlaced += files;
  }
  for (let a = 0; a < N; a++) out.set(apps[a].id, assign(sh, site, apps[a], a, words, placedOn[a], ranking, budget[a]));
  markHeld(sh, apps, words, false);
  return s;
}

function markHeld(sh: Shared, apps: PlanAppliance[], words: number, on: boolean): void {
  for (let a = 0; a < apps.length; a++) {
    const w = a >>> 5, bit = 1 << (a & 31);
    const idx = apps[a].heldFiles;
    if (idx !== undefined) {
      for (let i = 0; i < idx.length; i++) {
        const f = idx[i];
        if (on) sh.held[f * words + w] |= bit; else sh.held[f * words + w] = 0;
      }
      continue;
    }
    for (const id of apps[a].holds) {
      const f = sh.fileIndex.get(id);
      if (f === undefined) continue;
      if (on) sh.held[f * words + w] |= bit; else sh.held[f * words + w] = 0;
    }
  }
}

/** The appliance's files by regional rank, the hottest on SSD while it has room. */
function assign(
  sh: Shared, site: PlanSite, app: PlanAppliance, a: number, words: number, titles: number[], ranking: RegionRanking, churnBudgetBytes: number,
): ApplianceAssignment {
  const { titleStart, fileBytes } = sh.catalog;
  const bits = sh.rankBits;
  let n = 0;
  for (const t of titles) {
    for (let f = titleStart[t]; f < titleStart[t + 1]; f++) {
      const r = ranking.rank[f];
      bits[r >>> 5] |= 1 << (r & 31);
    }
    n += titleStart[t + 1] - titleStart[t];
  }
  const files = new Uint32Array(n);
  for (let wi = 0, k = 0; k < n; wi++) {
    let word = bits[wi];
    if (word === 0) continue;
    bits[wi] = 0;
    while (word !== 0) {
      const low = word & -word;
      files[k++] = ranking.order[(wi << 5) + 31 - Math.clz32(low)];
      word ^= low;
    }
  }
  const tiers = new Uint8Array(n);
  const keep = 1 - sh.o.headroom;
  const ssdCap = app.ssdBytes * keep, hddCap = app.hddBytes * keep;
  const w = a >>> 5, bit = 1 << (a & 31);
  let ssd = 0, hdd = 0, held = 0;
  for (let i = 0; i < n; i++) {
    const b = fileBytes[files[i]];
    // Rank order, first fit; a file that fits neither (fragmentation) goes where more is free,
    // overshooting by less than one file, which the headroom absorbs.
    const toSsd = ssd + b <= ssdCap || (hdd + b > hddCap && ssdCap - ssd >= hddCap - hdd);
    tiers[i] = toSsd ? TIER_SSD : TIER_HDD;
    if (toSsd) ssd += b; else hdd += b;
    if ((sh.held[files[i] * words + w] & bit) !== 0) held += b;
  }
  return {
    applianceId: app.id, siteId: site.siteId, region: site.region, files, tiers,
    capacityBytes: app.ssdBytes + app.hddBytes, plannedBytes: ssd + hdd, heldBytes: held, addBytes: ssd + hdd - held, churnBudgetBytes,
  };
}
