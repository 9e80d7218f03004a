// Fill test fixtures: disks to report, a fill report, and a manifest fetch that keeps the ETag.

import type { ApplianceReport, FillReport } from '../../protocol/index.ts';
import type { Ctx, Enrolled } from './helpers.ts';

export const TIERS: ApplianceReport['tiers'] = [
  { tier: 'ram', usedBytes: 0, capacityBytes: 1_000 },
  { tier: 'ssd', usedBytes: 0, capacityBytes: 3_000 },
  { tier: 'hdd', usedBytes: 0, capacityBytes: 100_000 },
];

export function fillReport(over: Partial<FillReport> = {}): FillReport {
  return {
    inWindow: true, active: false, wantedFiles: 0, wantedBytes: 0, heldBytes: 0,
    bytesBySource: { peer: 0, tier: 0, origin: 0 }, failuresBySource: { peer: 0, tier: 0, origin: 0 },
    blocked: null, badSources: [], ...over,
  };
}

export async function getManifest(ctx: Ctx, a: Enrolled, etag?: string) {
  const res = await fetch(`${ctx.url}/v1/appliances/${a.applianceId}/fill-manifest`, {
    headers: { authorization: `Bearer ${a.credential}`, ...(etag ? { 'if-none-match': etag } : {}) },
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : undefined };
}
