// The operator's view of fill (GET /v1/fill/status): per site its window, whether it is open now,
// its rates and "fill now"; per appliance what the plan wants (files, bytes), how much of that it
// holds now, what this plan asked it to add against its churn budget, its manifest version and
// its latest fill report. The status page reads this.

import type { FillReport, FillWindow, FillWindowState } from '../../../protocol/index.ts';
import type { ApplianceStatus } from '../steering/appliance-state.ts';
import type { Fleet } from '../steering/fleet.ts';
import type { Site } from '../store/repository.ts';
import type { BadSource } from './bad-sources.ts';
import type { FillService, PlanRun } from './fill-service.ts';
import type { FillRates } from './windows.ts';

export interface ApplianceFillStatus {
  applianceId: string;
  name: string;
  state: ApplianceStatus;
  /** false: not in the current plan (never reported disks, silent too long, or enrolled since) */
  planned: boolean;
  plannedFiles: number;
  plannedBytes: number;
  /** planned files it holds now, by its latest inventory */
  heldFiles: number;
  heldBytes: number;
  /** bytes this plan asked it to add, and the cap on that */
  addBytes: number;
  churnBudgetBytes: number;
  /** the manifest version last told to it (its report replies), null before any */
  manifestVersion: string | null;
  fillNowUntil: number | null;
  window: FillWindowState;
  report: FillReport | null;
  reportAt: number | null;
}

export interface SiteFillStatus extends FillRates {
  siteId: string;
  kind: Site['kind'];
  region: string;
  window: FillWindow;
  /** the window now, with the site's own "fill now" (appliances may have their own) */
  windowState: FillWindowState;
  overrides: { rateLimitBps: number | null; peerServeRateBps: number | null };
  fillNowUntil: number | null;
  appliances: ApplianceFillStatus[];
}

export interface FillStatus {
  now: number;
  plan: Omit<PlanRun, 'churn'> | null;
  sites: SiteFillStatus[];
  badSources: BadSource[];
}

export function fillStatus(fill: FillService, fleet: Fleet, sites: readonly Site[], now: number): FillStatus {
  const current = fill.current;
  const out: SiteFillStatus[] = [];
  for (const site of sites) {
    const view = fill.windows.site(site.siteId);
    const appliances: ApplianceFillStatus[] = [];
    for (const a of fill.siteMembers(site.siteId)) {
      const asg = current?.plan.appliances.get(a.id);
      let heldFiles = 0, heldBytes = 0;
      if (asg && current) {
        for (const f of asg.files) {
          if (a.inventory.has(current.catalog.fileIds[f])) {
            heldFiles++;
            heldBytes += current.catalog.fileBytes[f];
          }
        }
      }
      appliances.push({
        applianceId: a.id, name: a.name, state: fleet.status(a, now), planned: asg !== undefined,
        plannedFiles: asg?.files.length ?? 0, plannedBytes: asg?.plannedBytes ?? 0, heldFiles, heldBytes,
        addBytes: asg?.addBytes ?? 0, churnBudgetBytes: asg?.churnBudgetBytes ?? 0,
        manifestVersion: asg ? fill.manifests.lastVersion(a.id) : null,
        fillNowUntil: fill.windows.applianceFillNow(a.id),
        window: fill.windows.state(site, a.id, now),
        report: a.fill ?? null, reportAt: a.fillReportAt ?? null,
      });
    }
    out.push({
      siteId: site.siteId, kind: site.kind, region: site.region, window: fill.windows.window(site),
      windowState: fill.windows.state(site, '', now),
      rateLimitBps: view.rateLimitBps, peerServeRateBps: view.peerServeRateBps, overrides: view.overrides,
      fillNowUntil: view.fillNowUntil, appliances,
    });
  }
  const run = fill.lastRun;
  let plan: FillStatus['plan'] = null;
  if (run) {
    const { churn: _churn, ...rest } = run;
    plan = rest;
  }
  return { now, plan, sites: out, badSources: fill.bad.list(now) };
}
