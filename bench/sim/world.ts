// The simulated fleet, deterministic from a seed: regions in their own time zones, embedded sites
// (an ISP each: a skewed number of appliances, all reporting the ISP's prefixes, as Open Connect
// asks) and a few IX sites per region (no routes: they serve as the region's fallback tier), and
// per region a pool of prefixes nobody advertises (viewers on networks without boxes).
//
// Control's steering state is the real one: a `Fleet` (control/src/steering/fleet.ts) fed with
// each appliance's first report through `applyReport`, so the route table, slots and IX index
// are built exactly as control builds them.

import type { Address, ApplianceReport, RouteAttrs } from '../../protocol/index.ts';
import { parseAddress } from '../../protocol/index.ts';
import { Fleet } from '../../control/src/steering/fleet.ts';
import type { ApplianceState } from '../../control/src/steering/appliance-state.ts';
import type { Site } from '../../control/src/store/repository.ts';
import { randomPrefix } from '../steering/world.ts';
import type { SimOptions } from './options.ts';

export interface Region { name: string; timeZone: string; weight: number }

/** Share of viewers per region and where they live; windows are Open Connect's default 02:00–14:00 local. */
export const REGIONS: Region[] = [
  { name: 'na-east', timeZone: 'America/New_York', weight: 0.22 },
  { name: 'na-west', timeZone: 'America/Los_Angeles', weight: 0.12 },
  { name: 'latam', timeZone: 'America/Sao_Paulo', weight: 0.16 },
  { name: 'europe', timeZone: 'Europe/Berlin', weight: 0.25 },
  { name: 'apac', timeZone: 'Asia/Tokyo', weight: 0.15 },
  { name: 'oceania', timeZone: 'Australia/Sydney', weight: 0.10 },
];
export const FILL_WINDOW = { start: '02:00', end: '14:00' };

export interface SimSite {
  site: Site;
  regionIndex: number;
  /** fleet slots of its appliances */
  slots: number[];
  /** client addresses, one per advertised prefix (embedded sites only) */
  clients: Address[];
  /** bytes of store per appliance */
  storeBytes: number;
}

export interface SimWorld {
  fleet: Fleet;
  sites: SimSite[];
  /** per region: its embedded sites and the cumulative viewer weight over them (∝ appliances) */
  embeddedByRegion: { sites: number[]; cum: Float64Array }[];
  /** per region: addresses in prefixes nobody advertises */
  offNet: Address[][];
  /** slot → index into `sites` */
  siteOfSlot: Int32Array;
  apps: ApplianceState[];
  routeEntries: number;
  prefixes: number;
}

const TB = 1e12;

/** Appliances per embedded site: lognormal (median ~6, a tail of large ISPs), scaled to the total. */
function siteSizes(total: number, count: number, r: () => number): number[] {
  const raw = Array.from({ length: count }, () => Math.exp(Math.log(6) + 0.9 * gauss(r)));
  const sum = raw.reduce((a, b) => a + b, 0);
  const sizes = raw.map((x) => Math.max(1, Math.round((x * total) / sum)));
  let diff = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % count) {
    if (diff > 0) { sizes[i]++; diff--; } else if (sizes[i] > 1) { sizes[i]--; diff++; }
  }
  return sizes;
}

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function buildWorld(o: SimOptions, r: () => number, now: number): SimWorld {
  const fleet = new Fleet({ staleAfterMs: o.staleAfterMs, overloadEnter: o.overloadEnter, overloadLeave: o.overloadLeave });
  const ixSites = o.ixSitesPerRegion * REGIONS.length;
  const embeddedSites = o.sites - ixSites;
  const ixAppliances = ixSites * o.ixAppliancesPerSite;
  const sizes = siteSizes(o.appliances - ixAppliances, embeddedSites, r);
  const used = new Set<string>();
  const newPrefix = (): string => {
    let p = randomPrefix(r);
    while (used.has(p)) p = randomPrefix(r);
    used.add(p);
    return p;
  };
  const addressOf = (prefix: string): Address => parseAddress(prefix.slice(0, prefix.indexOf('/')))!;
  const sites: SimSite[] = [];
  const apps: ApplianceState[] = [];
  let routeEntries = 0;

  const addSite = (site: Site, regionIndex: number, n: number, storeBytes: number, routes: RouteAttrs[], clients: Address[]) => {
    const s: SimSite = { site, regionIndex, slots: [], clients, storeBytes };
    for (let k = 0; k < n; k++) {
      const id = `${site.siteId}-a${k}`;
      const a = fleet.add(id, site, id, `https://${id}.example.net`);
      const report: ApplianceReport = {
        seq: 1, bootId: 'sim', sentAt: now, softwareVersion: 'sim', draining: false, health: { status: 'ok', reasons: [] },
        load: { egressBps: 0, capacityBps: 1e11, connections: 0, cpu: 0 },
        tiers: [{ tier: 'ssd', capacityBytes: storeBytes * o.ssdShare, usedBytes: 0 }, { tier: 'hdd', capacityBytes: storeBytes * (1 - o.ssdShare), usedBytes: 0 }],
        bgp: [], prefixes: { hash: site.siteId, routes },
      };
      fleet.applyReport(a, report, now);
      routeEntries += routes.length;
      s.slots.push(a.slot);
      apps[a.slot] = a;
    }
    sites.push(s);
  };

  let e = 0;
  for (let i = 0; i < embeddedSites; i++) {
    // regions get sites in proportion to their viewers
    const ri = pickRegion(i / embeddedSites);
    const n = sizes[i];
    const routes: RouteAttrs[] = [];
    const clients: Address[] = [];
    for (let p = 0; p < 2 + n * o.prefixesPerAppliance; p++) {
      const prefix = newPrefix();
      routes.push({ prefix, asPathLength: 1 + Math.floor(r() * 2), localPref: 100, med: 0 });
      clients.push(addressOf(prefix));
    }
    const site: Site = { siteId: `e${String(e++).padStart(4, '0')}`, kind: 'embedded', region: REGIONS[ri].name, timeZone: REGIONS[ri].timeZone, fillWindow: FILL_WINDOW };
    addSite(site, ri, n, o.storageTB * TB, routes, clients);
  }
  REGIONS.forEach((reg, ri) => {
    for (let k = 0; k < o.ixSitesPerRegion; k++) {
      const site: Site = { siteId: `ix-${reg.name}-${k}`, kind: 'ix', region: reg.name, timeZone: reg.timeZone, fillWindow: FILL_WINDOW };
      addSite(site, ri, o.ixAppliancesPerSite, o.ixStorageTB * TB, [], []);
    }
  });

  const embeddedByRegion = REGIONS.map((_, ri) => {
    const list = sites.flatMap((s, i) => (s.regionIndex === ri && s.site.kind === 'embedded' ? [i] : []));
    const cum = new Float64Array(list.length);
    let acc = 0;
    list.forEach((si, j) => { acc += sites[si].slots.length; cum[j] = acc; });
    return { sites: list, cum };
  });
  // off-net: outside every advertised prefix (a random one may fall inside an ISP's shorter one)
  const offNetAddress = (): Address => {
    for (;;) {
      const a = addressOf(newPrefix());
      if (fleet.routes.lookup(a) === 0) return a;
    }
  };
  const offNet = REGIONS.map(() => Array.from({ length: o.offNetPrefixesPerRegion }, offNetAddress));
  const siteOfSlot = new Int32Array(apps.length).fill(-1);
  sites.forEach((s, i) => { for (const slot of s.slots) siteOfSlot[slot] = i; });
  return { fleet, sites, embeddedByRegion, offNet, siteOfSlot, apps, routeEntries, prefixes: used.size };
}

/** Region for the site at position x (0..1) of the list: contiguous blocks by viewer weight. */
function pickRegion(x: number): number {
  let acc = 0;
  for (let i = 0; i < REGIONS.length; i++) {
    acc += REGIONS[i].weight;
    if (x < acc) return i;
  }
  return REGIONS.length - 1;
}

/** Index of the first entry of the cumulative array above u × total. */
export function pickCum(cum: Float64Array, u: number): number {
  const x = u * cum[cum.length - 1];
  let lo = 0, hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid; else lo = mid + 1;
  }
  return lo;
}
