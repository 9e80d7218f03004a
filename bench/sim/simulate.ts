// One simulation run: warm-up days of viewing build the popularity book; the fleet starts as weeks
// of fills would have left it (the first plan filled at once, not counted); then hour by hour over
// the measured days: boxes fail and recover (reported to control's fleet), each region's night
// starts with control's planner and fills run in the window at the rate limit, and every session
// is steered by control's steer() and its bytes attributed.

import { fillWindowState, seededRandom } from '../../protocol/index.ts';
import type { ApplianceReport } from '../../protocol/index.ts';
import { steer } from '../../control/src/steering/steer.ts';
import type { SteerOptions } from '../../control/src/steering/steer.ts';
import { SimBook } from './book.ts';
import { LADDER, makeCatalogue, VIEWING } from './catalogue.ts';
import { DAY_MS, Demand, HOUR_MS } from './demand.ts';
import type { SimOptions } from './options.ts';
import { Stores, type NightFigures } from './stores.ts';
import { Tally, type Cause } from './tally.ts';
import { buildWorld, FILL_WINDOW, pickCum, REGIONS } from './world.ts';

/** Monday 5 January 2026, 00:00 UTC: the first measured day. */
export const T0 = Date.UTC(2026, 0, 5);

export interface NightResult extends NightFigures {
  night: number;
  /** bytes filled ÷ the fleet's store */
  churnShare: number;
  /** bytes filled ÷ what the windows allowed (Σ rate × window over appliances) */
  ofAllowance: number;
}

export interface SimResult {
  options: SimOptions;
  world: {
    regions: { name: string; timeZone: string; viewerShare: number; embeddedSites: number; appliances: number }[];
    sites: number; embeddedSites: number; ixSites: number; appliances: number; embeddedAppliances: number; ixAppliances: number;
    appliancesPerEmbeddedSite: { min: number; median: number; max: number };
    prefixes: number; routeEntries: number;
    titles: number; files: number; catalogueTB: number; filesPerTitle: number;
    storeTBPerEmbeddedSite: { min: number; median: number; max: number };
    releases: number; promotedReleases: number;
  };
  total: Tally;
  days: { day: number; tally: Tally }[];
  nights: NightResult[];
  warmStart: NightFigures;
  invariants: {
    bytesAttributedOnce: boolean;
    missBytesEqualOffEmbedded: boolean;
    maxWindowFillOfBound: number;
    maxUsedOfCapacity: number;
    usedMatchesHoldings: boolean;
    /** control's holder matrix says a box holds a title exactly when it holds every file of it */
    steeringMatchesHoldings: boolean;
  };
  counts: { steered: number; plans: number; healthReports: number; viewsRecorded: number };
  cpuSeconds: { world: number; warmup: number; planning: number; fill: number; sessions: number; total: number };
}

// this thread's CPU: the sweep runs in another thread of the same process (sweep.ts)
const cpu = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1e6;
};

function hhmmSeconds(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return (h * 60 + m) * 60;
}

export function simulate(o: SimOptions, log: (m: string) => void = () => {}): SimResult {
  const c0 = cpu();
  const r = seededRandom(o.seed);
  const cat = makeCatalogue(o.titles, r);
  const start = T0 - o.warmupDays * DAY_MS;
  const w = buildWorld(o, r, start);
  const stores = new Stores(cat, w, o);
  const demand = new Demand(cat, o, r, T0);
  const book = new SimBook(cat, demand.titleRegions, o.halfLifeDays * DAY_MS, T0);
  const steerOpts: SteerOptions = { topK: o.topK, fallbackK: o.fallbackK, originUrl: 'https://origin.example.net' };
  const cpuSeconds = { world: cpu() - c0, warmup: 0, planning: 0, fill: 0, sessions: 0, total: 0 };
  log(`world: ${w.sites.length} sites, ${w.apps.length} appliances, ${w.routeEntries} routes, catalogue ${(cat.bytes / 1e12).toFixed(0)} TB (${cpuSeconds.world.toFixed(1)} CPU-s)`);

  const hourFmt = REGIONS.map((reg) => new Intl.DateTimeFormat('en-GB', { timeZone: reg.timeZone, hour: 'numeric', hourCycle: 'h23' }));
  const localHour = (ri: number, t: number) => Number(hourFmt[ri].format(t));
  const viewingCum = new Float64Array(VIEWING.length);
  VIEWING.reduce((acc, v, i) => (viewingCum[i] = acc + v.share), 0);
  const carry = new Float64Array(REGIONS.length);

  /** One region-hour of viewing: sampled, optionally steered, and recorded in the book. */
  const groups = new Map<number, number>();
  const viewHour = (ri: number, now: number, each?: (t: number, bytes: number, site: number, addr: number) => void): void => {
    const n = demand.sessionsInHour(ri, localHour(ri, now), carry);
    const er = w.embeddedByRegion[ri], cum = demand.cum[ri];
    if (cum[cum.length - 1] <= 0) return;
    groups.clear();
    for (let i = 0; i < n; i++) {
      let site = -1, addr = -1;
      if (er.sites.length > 0 && r() >= o.offNetShare) {
        site = er.sites[pickCum(er.cum, r())];
        addr = Math.floor(r() * w.sites[site].clients.length);
      } else {
        addr = Math.floor(r() * w.offNet[ri].length);
      }
      const t = pickCum(cum, r());
      const v = pickCum(viewingCum, r());
      const ms = demand.watchMs(cat.durationMs[t]);
      const kbps = LADDER[VIEWING[v].video].kbps + LADDER[VIEWING[v].audio].kbps;
      each?.(t, (kbps * 1000 / 8) * (ms / 1000), site, addr);
      const key = t * VIEWING.length + v;
      groups.set(key, (groups.get(key) ?? 0) + ms);
    }
    // control counts a heartbeat's bytes toward popularity; here each (title, rung) group at once
    for (const [key, ms] of groups) book.record(ri, Math.floor(key / VIEWING.length), LADDER[VIEWING[key % VIEWING.length].video].kbps, ms, now + HOUR_MS / 2);
  };

  // Warm-up: popularity history only.
  for (let d = -o.warmupDays; d < 0; d++) {
    demand.setDay(d);
    for (let h = 0; h < 24; h++) for (let ri = 0; ri < REGIONS.length; ri++) viewHour(ri, T0 + d * DAY_MS + h * HOUR_MS);
  }
  const c1 = cpu();
  cpuSeconds.warmup = c1 - c0 - cpuSeconds.world;

  // The fleet as weeks of nightly fills leave it: the first plan, filled at once.
  const warmStart: NightFigures = { fillBytes: 0, evictedBytes: 0, filesAdded: 0, blockedNoSpace: 0, plannedAddBytes: 0 };
  let plans = 0;
  for (let ri = 0; ri < REGIONS.length; ri++) {
    const f = stores.plan(ri, book.regional(ri, T0, demand.promotions(T0)), true);
    plans++;
    warmStart.plannedAddBytes += f.plannedAddBytes;
    for (const s of w.sites) if (s.regionIndex === ri) for (const slot of s.slots) stores.fillAll(slot, warmStart);
  }
  const c2 = cpu();
  cpuSeconds.planning += c2 - c1;
  log(`warm start: ${(warmStart.fillBytes / 1e15).toFixed(1)} PB placed (${(c2 - c1).toFixed(1)} CPU-s)`);

  const total = new Tally();
  const days: { day: number; tally: Tally }[] = [];
  const nights: NightResult[] = [];
  const nightOf = new Int32Array(REGIONS.length).fill(-1);
  // a region whose window is open at the start is in the night the warm start stands for
  const inWindow = REGIONS.map((reg) => fillWindowState({ timeZone: reg.timeZone, ...FILL_WINDOW }, T0).open);
  const windowSec = (() => {
    const s = hhmmSeconds(FILL_WINDOW.start), e = hhmmSeconds(FILL_WINDOW.end);
    return e > s ? e - s : e + 86_400 - s;
  })();
  const bound = (o.fillRateBps / 8) * windowSec;
  const downUntil = new Float64Array(w.apps.length);
  let steered = 0, healthReports = 0;
  const fleetStore = w.sites.reduce((n, s) => n + s.storeBytes * s.slots.length, 0);

  const report = (slot: number, failing: boolean, now: number) => {
    const a = w.apps[slot];
    const rep: ApplianceReport = {
      seq: a.seq + 1, bootId: a.bootId ?? 'sim', sentAt: now, softwareVersion: 'sim', draining: false,
      health: failing ? { status: 'failing', reasons: ['disk'] } : { status: 'ok', reasons: [] },
      load: a.load, tiers: a.tiers, bgp: [],
    };
    w.fleet.applyReport(a, rep, now);
    healthReports++;
  };

  for (let h = 0; h < o.days * 24; h++) {
    const now = T0 + h * HOUR_MS;
    const day = Math.floor(h / 24);
    if (h % 24 === 0) {
      demand.setDay(day);
      days.push({ day, tally: new Tally() });
      log(`day ${day}: ${total.sessions} sessions so far, embedded ${(total.shares().embeddedShare * 100).toFixed(2)} %`);
    }
    const dayTally = days[days.length - 1].tally;

    // health: boxes fail for 1–8 h and come back
    for (let slot = 0; slot < w.apps.length; slot++) {
      if (downUntil[slot] > 0) {
        if (now >= downUntil[slot]) { downUntil[slot] = 0; report(slot, false, now); }
      } else if (r() < o.failPerHour) {
        downUntil[slot] = now + (1 + Math.floor(r() * 8)) * HOUR_MS;
        report(slot, true, now);
      }
    }

    // sessions of this hour, steered against the fleet as it is at the hour's start
    const c3 = cpu();
    for (let ri = 0; ri < REGIONS.length; ri++) {
      const region = REGIONS[ri].name;
      viewHour(ri, now, (t, bytes, site, addr) => {
        const address = site >= 0 ? w.sites[site].clients[addr] : w.offNet[ri][addr];
        const d = steer(w.fleet, { address, titleId: cat.titleIds[t], fileIds: stores.steeringFiles(t), region, now }, steerOpts);
        steered++;
        const first = d.targets[0];
        const where = first.tier === 'origin' ? 'origin' : w.fleet.get(first.applianceId!)!.site.kind === 'embedded' ? 'embedded' : 'ix';
        let cause: Cause | undefined;
        if (where !== 'embedded') {
          if (d.miss === 'no-route') cause = 'no-route';
          else if (d.miss === 'health') cause = 'unhealthy';
          else if (d.miss === 'content') {
            if ((stores.placed[site][t >>> 5] & (1 << (t & 31))) !== 0) cause = 'not-filled';
            else cause = stores.planViews[ri][t] > 0 ? 'box-full' : 'not-placed';
          } else throw new Error(`session off the embedded tier without a miss (${first.tier})`);
        }
        total.add(bytes, where, cause);
        dayTally.add(bytes, where, cause);
      });
    }
    const c4 = cpu();
    cpuSeconds.sessions += c4 - c3;

    // fill windows: a night starts with a plan; fills run for the open part of the hour
    for (let ri = 0; ri < REGIONS.length; ri++) {
      const win = fillWindowState({ timeZone: REGIONS[ri].timeZone, ...FILL_WINDOW }, now);
      const openSec = win.open
        ? (win.closesAt === null ? 3600 : Math.min(3600, (win.closesAt - now) / 1000))
        : win.opensAt !== null && win.opensAt < now + HOUR_MS ? (now + HOUR_MS - win.opensAt) / 1000 : 0;
      if (openSec <= 0) { inWindow[ri] = false; continue; }
      const slots = w.sites.filter((s) => s.regionIndex === ri).flatMap((s) => s.slots);
      if (!inWindow[ri]) {
        inWindow[ri] = true;
        const c5 = cpu();
        const fig = stores.plan(ri, book.regional(ri, now, demand.promotions(now)), false);
        plans++;
        cpuSeconds.planning += cpu() - c5;
        nightOf[ri]++;
        let night = nights.find((n) => n.night === nightOf[ri]);
        if (!night) nights.push((night = { night: nightOf[ri], fillBytes: 0, evictedBytes: 0, filesAdded: 0, blockedNoSpace: 0, plannedAddBytes: 0, churnShare: 0, ofAllowance: 0 }));
        night.plannedAddBytes += fig.plannedAddBytes;
        for (const slot of slots) stores.openWindow(slot);
      }
      const night = nights.find((n) => n.night === nightOf[ri])!;
      const c6 = cpu();
      const budget = (o.fillRateBps / 8) * openSec;
      for (const slot of slots) stores.fill(slot, budget, bound, night);
      cpuSeconds.fill += cpu() - c6;
    }
  }
  for (const n of nights) {
    n.churnShare = n.fillBytes / fleetStore;
    n.ofAllowance = n.fillBytes / (bound * w.apps.length);
  }

  let usedMatches = true, holdersMatch = true;
  const col = new Int32Array(1);
  for (let slot = 0; slot < w.apps.length; slot++) {
    if (Math.abs(stores.recount(slot) - stores.used[slot]) > 1) usedMatches = false;
    // steering's view (control's holder matrix) against what the box holds
    const m = stores.mask[slot];
    for (let t = 0; t < m.length; t++) {
      const n = w.fleet.holders.into(stores.steeringFiles(t), col);
      if (w.fleet.holders.holdsAll(col, n, slot) !== (m[t] === cat.fullMask[t])) holdersMatch = false;
    }
  }
  const offEmbedded = total.ix.bytes + total.origin.bytes;
  const missBytes = Object.values(total.misses).reduce((n, m) => n + m.bytes, 0);
  const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  cpuSeconds.total = cpu() - c0;

  const emb = w.sites.filter((s) => s.site.kind === 'embedded');
  const quart = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
  };
  return {
    options: o,
    world: {
      regions: REGIONS.map((reg, ri) => ({
        name: reg.name, timeZone: reg.timeZone, viewerShare: reg.weight,
        embeddedSites: emb.filter((s) => s.regionIndex === ri).length,
        appliances: w.sites.filter((s) => s.regionIndex === ri).reduce((n, s) => n + s.slots.length, 0),
      })),
      sites: w.sites.length, embeddedSites: emb.length, ixSites: w.sites.length - emb.length, appliances: w.apps.length,
      embeddedAppliances: emb.reduce((n, s) => n + s.slots.length, 0),
      ixAppliances: w.apps.length - emb.reduce((n, s) => n + s.slots.length, 0),
      appliancesPerEmbeddedSite: quart(emb.map((s) => s.slots.length)),
      prefixes: w.prefixes, routeEntries: w.routeEntries,
      titles: cat.titleIds.length, files: cat.fileIds.length, catalogueTB: cat.bytes / 1e12, filesPerTitle: LADDER.length,
      storeTBPerEmbeddedSite: quart(emb.map((s) => (s.storeBytes * s.slots.length) / 1e12)),
      releases: demand.releases.length, promotedReleases: demand.releases.filter((x) => x.promotion).length,
    },
    total, days, nights, warmStart,
    invariants: {
      bytesAttributedOnce: rel(total.embedded.bytes + offEmbedded, total.bytes) && total.embedded.sessions + total.ix.sessions + total.origin.sessions === total.sessions,
      missBytesEqualOffEmbedded: rel(missBytes, offEmbedded),
      maxWindowFillOfBound: stores.maxFillOfBound,
      maxUsedOfCapacity: stores.maxUsedOfCap,
      usedMatchesHoldings: usedMatches,
      steeringMatchesHoldings: holdersMatch,
    },
    counts: { steered, plans, healthReports, viewsRecorded: book.recorded },
    cpuSeconds,
  };
}
