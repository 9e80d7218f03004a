// What the planner is given, taken from control's state: the catalogue flattened (titles by id,
// files in manifest order) with each file's sha256 and kind for the manifests, and the sites with
// the appliances that can take a plan: reported within `dropAfterMs` with some disk capacity.
// An appliance left out keeps its files (it gets no manifest) until it is planned again.

import type { FileKind } from '../../../protocol/index.ts';
import type { CatalogTitle } from '../catalog.ts';
import type { ApplianceState } from '../steering/appliance-state.ts';
import type { PlanAppliance, PlanSite } from './planner.ts';
import type { PlanCatalog } from './ranking.ts';

export interface PlannedCatalog extends PlanCatalog {
  sha256: string[];
  kind: FileKind[];
  /** per title: the regions it may be played in (empty = everywhere) */
  titleRegions: string[][];
}

export function planCatalog(titles: Iterable<CatalogTitle>): PlannedCatalog {
  const sorted = [...titles].sort((a, b) => (a.titleId < b.titleId ? -1 : a.titleId > b.titleId ? 1 : 0));
  const fileCount = sorted.reduce((n, t) => n + t.manifest.files.length, 0);
  const out: PlannedCatalog = {
    titleIds: [], titleStart: new Uint32Array(sorted.length + 1), fileIds: [], fileBytes: new Float64Array(fileCount),
    sha256: [], kind: [], titleRegions: [],
  };
  for (let t = 0; t < sorted.length; t++) {
    out.titleStart[t] = out.fileIds.length;
    out.titleIds.push(sorted[t].titleId);
    out.titleRegions.push(sorted[t].regions);
    for (const f of sorted[t].manifest.files) {
      out.fileBytes[out.fileIds.length] = f.bytes;
      out.fileIds.push(f.fileId);
      out.sha256.push(f.sha256);
      out.kind.push(f.kind);
    }
  }
  out.titleStart[sorted.length] = out.fileIds.length;
  return out;
}

export function diskBytes(a: ApplianceState): { ssd: number; hdd: number } {
  let ssd = 0, hdd = 0;
  for (const t of a.tiers) {
    if (t.tier === 'ssd') ssd += t.capacityBytes;
    else if (t.tier === 'hdd') hdd += t.capacityBytes;
  }
  return { ssd, hdd };
}

export function plannable(a: ApplianceState, now: number, dropAfterMs: number): boolean {
  if (a.lastReportAt === undefined || now - a.lastReportAt > dropAfterMs) return false;
  const d = diskBytes(a);
  return d.ssd + d.hdd > 0;
}

export function planSites(appliances: Iterable<ApplianceState>, now: number, dropAfterMs: number): PlanSite[] {
  const bySite = new Map<string, PlanSite>();
  for (const a of appliances) {
    let site = bySite.get(a.site.siteId);
    if (!site) bySite.set(a.site.siteId, (site = { siteId: a.site.siteId, region: a.site.region, appliances: [] }));
    if (!plannable(a, now, dropAfterMs)) continue;
    const d = diskBytes(a);
    const p: PlanAppliance = { id: a.id, ssdBytes: d.ssd, hddBytes: d.hdd, holds: a.inventory };
    site.appliances.push(p);
  }
  return [...bySite.values()].sort((x, y) => (x.siteId < y.siteId ? -1 : 1));
}
