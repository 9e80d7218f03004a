// Part (d) of the fill bench: the 3 + 1 cluster of the integration tests (an embedded site of 3
// appliances and an IX site of 1 in one region, windows open, control's default fill rate), an
// empty fleet and a catalogue only the origin holds. Every appliance fills its plan; the figure is
// the share of the embedded site's fill bytes that came from the origin (the engines' own
// counters, cross-checked against a counting proxy in front of the origin).

import { mkdirSync } from 'node:fs';
import { clusterPaths, startCluster, type ClusterAppliance } from '../../scripts/lib/cluster.ts';
import { startFaultProxy, type FaultProxy } from '../../scripts/lib/fault-proxy.ts';
import { writeTitle } from '../../scripts/lib/test-titles.ts';
import { round3 } from '../serve/measurement.ts';
import { watchFill } from './progress.ts';

export interface ApplianceShare {
  name: string;
  siteId: string;
  bytes: { peer: number; tier: number; origin: number };
  seconds: number;
}

export interface OriginShareResult {
  catalogueBytes: number;
  files: number;
  /** origin bytes ÷ all fill bytes of the embedded site's 3 appliances (0–1) */
  originShare: number;
  /** the same with the IX appliance counted (it can only fill from the origin) */
  originShareWithIx: number;
  /** origin bytes the proxy in front of the origin counted for the embedded site (cross-check) */
  originBytesSeenByProxy: number;
  seconds: number;
  appliances: ApplianceShare[];
}

export interface ShareOptions {
  dir: string;
  catalogueBytes: number;
  fileBytes: number;
  log: (m: string) => void;
  timeoutMs: number;
}

export async function originShare(o: ShareOptions): Promise<OriginShareResult> {
  const store = clusterPaths(o.dir).originStore;
  mkdirSync(store, { recursive: true });
  const titles = Math.max(1, Math.round(o.catalogueBytes / o.fileBytes / 2));
  const written = Array.from({ length: titles }, (_, i) => writeTitle(store, { titleId: `d${String(i).padStart(3, '0')}`, files: 2, bytes: o.fileBytes }));
  let proxy: FaultProxy | undefined;
  const allDay = { start: '00:00', end: '00:00' };
  const c = await startCluster({
    dir: o.dir,
    sites: [
      { siteId: 'lon-1', kind: 'embedded', region: 'eu', fillWindow: allDay, appliances: 3 },
      { siteId: 'ix-eu', kind: 'ix', region: 'eu', fillWindow: allDay, appliances: 1 },
    ],
    control: { fillPlanSchedule: '', fillChurnFraction: 1 },
    originUrlFor: async (url) => (proxy = await startFaultProxy(url)).url,
    applianceDefaults: { logLevel: 'warn' },
  });
  try {
    for (const t of written) await c.control.api.registerTitle(t.record);
    // a few titles expected to be popular, so copies differ by title as they would in a region
    for (let i = 0; i < Math.min(8, written.length); i++) {
      await c.control.api.promote(written[i].titleId, { regions: ['eu'], expectedViews: 1000 - 100 * i, releaseAt: Date.now() });
    }
    const watches = c.appliances.map((a) => ({ a, w: watchFill(a, { intervalMs: 500, timeoutMs: o.timeoutMs }) }));
    const t0 = performance.now();
    await c.control.api.plan();
    o.log(`cluster: ${written.length * 2} files, ${Math.round((written.length * 2 * o.fileBytes) / 2 ** 20)} MiB; planned, filling`);
    const shares: ApplianceShare[] = [];
    for (const { a, w } of watches) {
      const last = await w.done;
      shares.push({ name: a.name, siteId: a.siteId, bytes: last.byLevel, seconds: round3(last.t / 1000) });
      o.log(`cluster: ${a.name} holds its plan: peer ${mib(last.byLevel.peer)} MiB, tier ${mib(last.byLevel.tier)} MiB, origin ${mib(last.byLevel.origin)} MiB`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const sum = (xs: ApplianceShare[], k?: keyof ApplianceShare['bytes']) =>
      xs.reduce((n, s) => n + (k ? s.bytes[k] : s.bytes.peer + s.bytes.tier + s.bytes.origin), 0);
    const site = shares.filter((s) => s.siteId === 'lon-1');
    const siteIds = new Set(c.site('lon-1').map((a: ClusterAppliance) => a.applianceId));
    return {
      catalogueBytes: written.length * 2 * o.fileBytes,
      files: written.length * 2,
      originShare: round3(sum(site) > 0 ? sum(site, 'origin') / sum(site) : 0),
      originShareWithIx: round3(sum(shares) > 0 ? sum(shares, 'origin') / sum(shares) : 0),
      originBytesSeenByProxy: proxy!.bytes((r) => r.from !== null && siteIds.has(r.from) && r.fileId !== null),
      seconds: round3(seconds),
      appliances: shares,
    };
  } finally {
    await c.stop();
    await proxy?.close();
  }
}

function mib(b: number): number {
  return Math.round(b / 2 ** 20);
}
