// The steering decision for one play request, from memory only (no I/O): longest-prefix match
// over the reported routes → appliances that are healthy, not draining, hold every file the
// session needs and have headroom → ranked → top K; then the region's IX tier; then the origin.
//
// This runs for every playback start, so it allocates nothing but its answer: the route table
// hands back list heads into typed arrays, what it needs of each appliance is in `fleet.slots`,
// and instead of building and sorting every candidate it keeps the best K in place as it goes.

import type { Address } from '../../../protocol/index.ts';
import { affinity, fnv1a } from './appliance-state.ts';
import type { Fleet } from './fleet.ts';
import { R_AS_PATH_LENGTH, R_LOCAL_PREF, R_MED, R_NEXT, R_SLOT, REC } from './route-table.ts';

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

// The best K candidates so far, best first, as parallel arrays (grown if K is ever larger).
let cap = 16;
let kSlot = new Int32Array(cap), kLen = new Int32Array(cap), kEmb = new Int32Array(cap), kLoad = new Int32Array(cap);
let kLp = new Float64Array(cap), kAsp = new Float64Array(cap), kMed = new Float64Array(cap), kAff = new Float64Array(cap);
let kCount = 0;
let heldCols = new Int32Array(16);
let decisionStamp = 0;

function ensureCap(k: number): void {
  if (k <= cap) return;
  cap = k;
  kSlot = new Int32Array(cap); kLen = new Int32Array(cap); kEmb = new Int32Array(cap); kLoad = new Int32Array(cap);
  kLp = new Float64Array(cap); kAsp = new Float64Array(cap); kMed = new Float64Array(cap); kAff = new Float64Array(cap);
}

/**
 * Is the kept candidate j strictly worse than the new one? Order: longer prefix, embedded before
 * IX, higher local preference, shorter AS path, lower MED, then load in 10% steps, then the
 * title's rendezvous hash for cache affinity. Equals keep their arrival order.
 */
function worse(j: number, len: number, emb: number, lp: number, asp: number, med: number, load: number, aff: number): boolean {
  if (kLen[j] !== len) return kLen[j] < len;
  if (kEmb[j] !== emb) return kEmb[j] < emb;
  if (kLp[j] !== lp) return kLp[j] < lp;
  if (kAsp[j] !== asp) return kAsp[j] > asp;
  if (kMed[j] !== med) return kMed[j] > med;
  if (kLoad[j] !== load) return kLoad[j] > load;
  return kAff[j] < aff;
}

function offer(k: number, slot: number, len: number, emb: number, lp: number, asp: number, med: number, load: number, aff: number): void {
  let pos: number;
  if (k <= 0) return;
  if (kCount < k) pos = kCount++;
  else if (worse(k - 1, len, emb, lp, asp, med, load, aff)) pos = k - 1;
  else return;
  while (pos > 0 && worse(pos - 1, len, emb, lp, asp, med, load, aff)) {
    const q = pos - 1;
    kSlot[pos] = kSlot[q]; kLen[pos] = kLen[q]; kEmb[pos] = kEmb[q]; kLp[pos] = kLp[q];
    kAsp[pos] = kAsp[q]; kMed[pos] = kMed[q]; kLoad[pos] = kLoad[q]; kAff[pos] = kAff[q];
    pos = q;
  }
  kSlot[pos] = slot; kLen[pos] = len; kEmb[pos] = emb; kLp[pos] = lp;
  kAsp[pos] = asp; kMed[pos] = med; kLoad[pos] = load; kAff[pos] = aff;
}

export function steer(fleet: Fleet, req: SteerRequest, opts: SteerOptions): SteerDecision {
  const titleHash = fnv1a(req.titleId);
  if (req.fileIds.length > heldCols.length) heldCols = new Int32Array(req.fileIds.length * 2);
  const holders = fleet.holders;
  const nHeld = holders.into(req.fileIds, heldCols);
  const rt = fleet.routes;
  const n = rt.lookup(req.address);
  const { ok, lastReport, loadBucket, idHash, embedded, mark, apps } = fleet.slots;
  const rec = rt.rec;
  const staleAfter = fleet.policy.staleAfterMs, now = req.now;
  // Synchronous from here on, so one stamp per call marks the appliances already considered.
  let stamp = (decisionStamp = (decisionStamp + 1) | 0);
  if (stamp === 0) stamp = decisionStamp = 1;
  ensureCap(Math.max(opts.topK, opts.fallbackK));
  kCount = 0;
  let local = 0, holdsButUnhealthy = 0;
  for (let i = n - 1; i >= 0; i--) {
    const len = rt.lengths[i];
    for (let r = rt.heads[i]; r >= 0; r = rec[r * REC + R_NEXT]) {
      const o = r * REC;
      const s = rec[o + R_SLOT];
      if (mark[s] === stamp) continue; // an appliance counts once, at its longest match (best route first)
      mark[s] = stamp;
      local++;
      if (!holders.holdsAll(heldCols, nHeld, s)) continue;
      if (ok[s] === 1 && now - lastReport[s] <= staleAfter) {
        offer(opts.topK, s, len, embedded[s], rec[o + R_LOCAL_PREF] >>> 0, rec[o + R_AS_PATH_LENGTH] >>> 0, rec[o + R_MED] >>> 0, loadBucket[s], affinity(titleHash, idHash[s]));
      } else {
        holdsButUnhealthy++;
      }
    }
  }
  const targets: SteerTarget[] = [];
  for (let j = 0; j < kCount; j++) {
    const a = apps[kSlot[j]];
    targets.push({ tier: 'local', applianceId: a.id, origin: a.publicUrl });
  }
  let miss: MissCause | undefined;
  if (targets.length === 0) miss = local === 0 ? 'no-route' : holdsButUnhealthy > 0 ? 'health' : 'content';

  kCount = 0;
  if (opts.fallbackK > 0) {
    const ix = fleet.ixSlotsInRegion(req.region);
    for (let j = 0; j < ix.length; j++) {
      const s = ix[j];
      if (mark[s] === stamp || ok[s] !== 1 || !(now - lastReport[s] <= staleAfter) || !holders.holdsAll(heldCols, nHeld, s)) continue;
      offer(opts.fallbackK, s, 0, 0, 0, 0, 0, loadBucket[s], affinity(titleHash, idHash[s]));
    }
  }
  for (let j = 0; j < kCount; j++) {
    const a = apps[kSlot[j]];
    targets.push({ tier: 'fallback', applianceId: a.id, origin: a.publicUrl });
  }
  targets.push({ tier: 'origin', origin: opts.originUrl });
  return miss ? { targets, miss } : { targets };
}
