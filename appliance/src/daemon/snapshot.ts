// The box at a glance, for the control reporter (which wraps it into protocol's ApplianceReport)
// and for /v1/status: health, load, tier usage and the fileIds held.

import type { FillReport, ReportedTls } from '../../../protocol/index.ts';
import type { StoreUsage } from '../store/store.ts';
import type { Health } from './health.ts';
import type { Load } from './load-meter.ts';
import type { TierUsage } from './metrics.ts';

export interface ApplianceSnapshot {
  applianceId: string;
  health: Health;
  draining: boolean;
  load: {
    egressBps: number;
    capacityBps: number;
    connections: number;
    /** 0..1, all cores */
    cpu: number;
  };
  tiers: { tier: 'ram' | 'ssd' | 'hdd'; usedBytes: number; capacityBytes: number }[];
  /** every fileId the box serves, sorted */
  inventory: string[];
  /** fill progress; absent when the box does not fill */
  fill?: FillReport;
  /** HTTPS: the https:// base URL and the served certificate; absent when the box serves plain HTTP only */
  tls?: ReportedTls;
}

/** Per-tier usage from the store's report; a disk tier with no roots is left out. */
export function tierUsage(u: StoreUsage): TierUsage[] {
  const out: TierUsage[] = [{ tier: 'ram', usedBytes: u.ram.bytes, capacityBytes: u.ram.budget, files: u.ram.files }];
  for (const tier of ['ssd', 'hdd'] as const) {
    const t = u[tier];
    if (t.roots.length > 0) out.push({ tier, usedBytes: t.bytes, capacityBytes: t.capacity, files: t.files });
  }
  return out;
}

export function buildSnapshot(i: {
  applianceId: string;
  health: Health;
  draining: boolean;
  load: Load;
  capacityBps: number;
  usage: StoreUsage;
  fileIds: string[];
  fill?: FillReport;
  tls?: ReportedTls;
}): ApplianceSnapshot {
  return {
    applianceId: i.applianceId,
    health: i.health,
    draining: i.draining,
    load: {
      egressBps: i.load.egressBps,
      capacityBps: i.capacityBps,
      connections: i.load.connections,
      cpu: i.load.cpu,
    },
    tiers: tierUsage(i.usage).map(({ tier, usedBytes, capacityBytes }) => ({ tier, usedBytes, capacityBytes })),
    inventory: [...i.fileIds].sort(),
    ...(i.fill ? { fill: i.fill } : {}),
    ...(i.tls ? { tls: i.tls } : {}),
  };
}
