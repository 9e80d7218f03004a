// The steering decision for one play request, from memory only (no I/O): longest-prefix match
// over the reported routes → appliances that are healthy, not draining, hold every file the
// session needs and have headroom → ranked → top K; then the region's IX tier; then the origin.

import type { Address } from '../../../protocol/index.ts';
import { affinity, fnv1a } from './appliance-state.ts';
import type { ApplianceState } from './appliance-state.ts';
import type { Fleet } from './fleet.ts';
import { holdsAll } from './holders.ts';
import type { RouteEntry } from './route-table.ts';

export type MissCause = 'content' | 'health' | 'no-route';

export interface SteerRequest {
  address: Address;
  titleId: string;
  fileIds: readonly string[];
  /** the viewer's region, for the IX fallback tier */
  region: string;
  now: number;
}

export interface SteerTarget {
  tier: 'local' | 'fallback' | 'origin';
  /** absent for the origin */
  applianceId?: string;
  origin: string;
}

export interface SteerDecision {
  targets: SteerTarget[];
  /** set when no local appliance could serve (the viewer is sent off their ISP's boxes) */
  miss?: MissCause;
}

export interface SteerOptions { topK: number; fallbackK: number; originUrl: string }

interface Candidate { app: ApplianceState; length: number; embedded: number; localPref: number; asPathLength: number; med: number; loadBucket: number; affinity: number }


/**
 * Order: longer prefix, embedded before IX, higher local preference, shorter AS path, lower MED,
 * then load in 10% steps (finer differences would make the choice follow noise and defeat the
 * hash), then the title's rendezvous hash for cache affinity.
 */
function compare(x: Candidate, y: Candidate): number {
  return y.length - x.length || y.embedded - x.embedded || y.localPref - x.localPref ||
    x.asPathLength - y.asPathLength || x.med - y.med || x.loadBucket - y.loadBucket || y.affinity - x.affinity;
}

let decisionStamp = 0;

export function steer(fleet: Fleet, req: SteerRequest, o: SteerOptions): SteerDecision {
  const titleHash = fnv1a(req.titleId);
  const held = fleet.holders.of(req.fileIds);
  const matches = fleet.routes.lookup(req.address);
  // Synchronous from here on, so one stamp per call marks the appliances already considered.
  const stamp = (decisionStamp = (decisionStamp + 1) | 0);
  const candidates: Candidate[] = [];
  let local = 0, holdsButUnhealthy = 0;
  for (let i = matches.length - 1; i >= 0; i--) {
    const list: RouteEntry[] = matches[i];
    for (const e of list) {
      const a = e.app;
      if (a.mark === stamp) continue; // an appliance counts once, at its longest match
      a.mark = stamp;
      local++;
      const healthy = fleet.status(a, req.now) === 'healthy';
      const holds = holdsAll(held, a.slot);
      if (healthy && holds) {
        candidates.push({
          app: a, length: e.length, embedded: a.site.kind === 'embedded' ? 1 : 0, localPref: e.localPref,
          asPathLength: e.asPathLength, med: e.med, loadBucket: Math.floor(a.utilisation * 10),
          affinity: affinity(titleHash, a.idHash),
        });
      } else if (holds) {
        holdsButUnhealthy++;
      }
    }
  }
  candidates.sort(compare);
  const targets: SteerTarget[] = [];
  for (let i = 0; i < candidates.length && i < o.topK; i++) {
    targets.push({ tier: 'local', applianceId: candidates[i].app.id, origin: candidates[i].app.publicUrl });
  }
  let miss: MissCause | undefined;
  if (targets.length === 0) miss = local === 0 ? 'no-route' : holdsButUnhealthy > 0 ? 'health' : 'content';

  const fallback: Candidate[] = [];
  for (const a of fleet.ixInRegion(req.region)) {
    if (a.mark === stamp || fleet.status(a, req.now) !== 'healthy' || !holdsAll(held, a.slot)) continue;
    fallback.push({
      app: a, length: 0, embedded: 0, localPref: 0, asPathLength: 0, med: 0,
      loadBucket: Math.floor(a.utilisation * 10), affinity: affinity(titleHash, a.idHash),
    });
  }
  fallback.sort(compare);
  for (let i = 0; i < fallback.length && i < o.fallbackK; i++) {
    targets.push({ tier: 'fallback', applianceId: fallback[i].app.id, origin: fallback[i].app.publicUrl });
  }
  targets.push({ tier: 'origin', origin: o.originUrl });
  return miss ? { targets, miss } : { targets };
}
