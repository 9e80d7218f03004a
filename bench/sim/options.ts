// The simulation's knobs: the full size the issue asks for (the default), `--small` for tests,
// and `--name value` overrides. Control's own defaults (fill headroom, churn per plan, fill rate,
// popularity half-life, steering K) come from its settings schema, so the simulation follows them.

import { ControlSettings } from '../../control/src/settings.ts';
import { REGIONS } from './world.ts';

export interface SimOptions {
  seed: number;
  appliances: number;
  sites: number;
  ixSitesPerRegion: number;
  ixAppliancesPerSite: number;
  titles: number;
  /** store per embedded appliance, TB (10^12 B); swept */
  storageTB: number;
  /** store per IX appliance, TB (storage boxes: the IX tier holds the catalogue) */
  ixStorageTB: number;
  ssdShare: number;
  prefixesPerAppliance: number;
  offNetPrefixesPerRegion: number;
  /** share of viewers on networks without embedded boxes */
  offNetShare: number;
  /** simulated days measured, after `warmupDays` of popularity history */
  days: number;
  warmupDays: number;
  /** steered sessions per simulated day, over all regions */
  sessionsPerDay: number;
  zipfExponent: number;
  /** log-normal sigma of each title's daily popularity drift */
  driftSigma: number;
  /** log-normal sigma of a title's per-region taste */
  regionSigma: number;
  /** share of titles licensed in one or two regions only */
  regionalTitleShare: number;
  releasesPerDay: number;
  /** share of new releases with a promotion (PUT /v1/titles/:id/promotion) */
  promotedShare: number;
  promotionLeadDays: number;
  /** log-normal sigma of the promotion's error in expected views */
  promotionSigma: number;
  releaseHalfLifeDays: number;
  /** per appliance per hour: chance of starting to fail (down 1–8 h) */
  failPerHour: number;
  /** storage sizes of the sweep, TB; empty = no sweep */
  sweepTB: number[];
  /**
   * The sweep runs on a slice of the world made by the same generator (each site's share of
   * bytes depends on its own store and viewers, so a tenth of the sites gives the same curve at a
   * tenth of the cost): its days, sites, appliances and share of the sessions.
   */
  sweepDays: number;
  sweepAppliances: number;
  sweepSites: number;
  sweepIxSitesPerRegion: number;
  sweepIxAppliancesPerSite: number;
  sweepSessionShare: number;
  // from control's settings
  headroom: number;
  churnFraction: number;
  fillRateBps: number;
  halfLifeDays: number;
  topK: number;
  fallbackK: number;
  staleAfterMs: number;
  overloadEnter: number;
  overloadLeave: number;
}

const control = ControlSettings.parse({});

export const FULL: SimOptions = {
  seed: 14,
  appliances: 10_000,
  sites: 1_000,
  ixSitesPerRegion: 3,
  ixAppliancesPerSite: 10,
  titles: 20_000,
  storageTB: 24,
  ixStorageTB: 100,
  ssdShare: 0.1,
  prefixesPerAppliance: 2,
  offNetPrefixesPerRegion: 200,
  offNetShare: 0.01,
  days: 2,
  warmupDays: 4,
  sessionsPerDay: 2_000_000,
  zipfExponent: 1.0,
  driftSigma: 0.15,
  regionSigma: 0.5,
  regionalTitleShare: 0.15,
  releasesPerDay: 10,
  promotedShare: 0.9,
  promotionLeadDays: 3,
  promotionSigma: 0.5,
  releaseHalfLifeDays: 5,
  failPerHour: 0.0005,
  sweepTB: [6, 12, 24, 36, 48],
  sweepDays: 1,
  sweepAppliances: 1_000,
  sweepSites: 100,
  sweepIxSitesPerRegion: 1,
  sweepIxAppliancesPerSite: 5,
  sweepSessionShare: 0.1,
  headroom: control.fillHeadroom,
  churnFraction: control.fillChurnFraction,
  fillRateBps: control.fillRateBps,
  halfLifeDays: control.popularityHalfLifeDays,
  topK: control.topK,
  fallbackK: control.fallbackK,
  // the simulation reports only when health changes, so staleness is not what it measures
  staleAfterMs: 30 * 86_400_000,
  overloadEnter: control.overloadEnter,
  overloadLeave: control.overloadLeave,
};

export const SMALL: SimOptions = {
  ...FULL,
  appliances: 200,
  sites: 40,
  ixSitesPerRegion: 1,
  ixAppliancesPerSite: 3,
  titles: 600,
  storageTB: 1,
  ixStorageTB: 10,
  offNetPrefixesPerRegion: 5,
  days: 3,
  warmupDays: 2,
  sessionsPerDay: 20_000,
  releasesPerDay: 3,
  failPerHour: 0.005,
  sweepTB: [0.5, 1, 2],
  sweepDays: 1,
  sweepAppliances: 100,
  sweepSites: 20,
  sweepIxAppliancesPerSite: 2,
  sweepSessionShare: 0.5,
};

/** `--small`, then `--name value` for any numeric option (`--sweepTB 4,8,16`). */
export function parseArgs(argv: readonly string[]): { options: SimOptions; out: string; small: boolean } {
  const small = argv.includes('--small');
  const o: SimOptions = { ...(small ? SMALL : FULL) };
  let out = 'bench/results';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--small') continue;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (name === 'out') { out = v; continue; }
    if (!(name in o)) throw new Error(`unknown option ${a} (options: ${Object.keys(o).join(', ')}, out, small)`);
    const key = name as keyof SimOptions;
    if (Array.isArray(o[key])) {
      const list = v === '' ? [] : v.split(',').map(Number);
      if (list.some((x) => !(x > 0))) throw new Error(`${a}: a comma-separated list of positive numbers`);
      (o as unknown as Record<string, number[]>)[key] = list;
    } else {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: not a non-negative number: ${v}`);
      (o as unknown as Record<string, number>)[key] = n;
    }
  }
  if (o.appliances < o.sites) throw new Error('need at least one appliance per site');
  if (o.ixSitesPerRegion * REGIONS.length >= o.sites) throw new Error('too few sites for the IX sites');
  if (o.sweepIxSitesPerRegion * REGIONS.length >= o.sweepSites || o.sweepAppliances < o.sweepSites) throw new Error('the sweep\'s slice is too small');
  return { options: o, out, small };
}
