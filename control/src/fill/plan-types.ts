// The planner's input and output shapes (planner.ts): plain data, so a simulation can build the
// input and read the output without control.

import type { PlanCatalog, RegionRanking } from './ranking.ts';

export interface PlanAppliance {
  id: string;
  /** disk capacity per tier, bytes, as reported (the planner takes the headroom off) */
  ssdBytes: number;
  hddBytes: number;
  /** what it holds now (reported inventory) */
  holds: ReadonlySet<string>;
  /**
   * The same as catalogue file indices, used instead of `holds` when given: the fleet simulation
   * (bench/sim) keeps inventories as indices, and 10,000 appliances' sets of fileId strings would
   * cost it gigabytes and billions of map lookups a night.
   */
  heldFiles?: ArrayLike<number>;
}

export interface PlanSite { siteId: string; region: string; appliances: PlanAppliance[] }

export interface PlanInput {
  catalog: PlanCatalog;
  /** per region, views per file aligned with catalog.fileIds; negative: not available there; absent region: no views */
  popularity: ReadonlyMap<string, Float64Array>;
  sites: PlanSite[];
}

export interface PlanOptions {
  /** share of each tier left free, 0..1 */
  headroom: number;
  /** per plan, bytes of files not held now that an appliance may be given, as a share of its store */
  churnFraction: number;
}

export const TIER_SSD = 0;
export const TIER_HDD = 1;

export interface ApplianceAssignment {
  applianceId: string;
  siteId: string;
  region: string;
  /** catalogue file indices, most popular in the region first */
  files: Uint32Array;
  /** TIER_SSD or TIER_HDD per entry of `files` */
  tiers: Uint8Array;
  capacityBytes: number;
  plannedBytes: number;
  /** bytes of planned files it holds now */
  heldBytes: number;
  /** bytes of planned files it does not hold yet: this plan's churn */
  addBytes: number;
  churnBudgetBytes: number;
}

export interface SiteStats { siteId: string; appliances: number; titlesPlaced: number; titlesUnplaced: number; copies: number }

export interface PlanStats {
  sites: number;
  appliances: number;
  /** (title, site) pairs with at least one copy */
  titlesPlaced: number;
  /** (title, site) pairs of the region's working set that found no room */
  titlesUnplaced: number;
  /** (file, site) pairs with at least one copy */
  filesPlaced: number;
  /** (file, appliance) placements */
  copies: number;
  plannedBytes: number;
  addBytes: number;
  perSite: SiteStats[];
}

export interface FillPlan {
  catalog: PlanCatalog;
  regions: Map<string, RegionRanking>;
  appliances: Map<string, ApplianceAssignment>;
  stats: PlanStats;
}
