// The steering decision for one play request, from memory only (no I/O): longest-prefix match
// over the reported routes → appliances that are healthy, not draining, hold every file the
// session needs and have headroom → ranked → top K; then the region's IX tier; then the origin.
//
// This runs for every playback start, so it allocates nothing but its answer: the route table
// hands back list heads into typed arrays, what it needs of each appliance is in `fleet.slots`,
// and instead of building and sorting every candidate it keeps the best K in place as it goes.

import type { Address } from '../../../protocol/index.ts';
import { affinity, fnv1a, viewerBaseUrl } from './appliance-state.ts';
import type { Fleet } from './fleet.ts';
import { ORIGIN_SHIFT, R_AS_PATH_LENGTH, R_LOCAL_PREF, R_MED, R_NEXT, R_PEER, R_SLOT, REC } from './route-table.ts';
import { ThroughputBook, type Cell } from './throughput.ts';

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
  /** how many targets are degraded boxes (absent when none) */
  degraded?: number;
}

export interface SteerOptions {
  topK: number;
  fallbackK: number;
  originUrl: string;
  /** measured throughput per (client prefix, appliance); without it every box counts as serving well */
  throughput?: ThroughputBook;
}

// The best K candidates so far, best first, as parallel arrays (grown if K is ever larger).
// `kHead` packs what ranks first into one integer, higher better: prefix length, healthy before
// degraded, throughput class, embedded before IX (see `headKey`); `kOm` packs ORIGIN above MED,
// lower better.
let cap = 16;
let kSlot = new Int32Array(cap), kHead = new Int32Array(cap), kLoad = new Int32Array(cap);
let kLp = new Float64Array(cap), kAsp = new Float64Array(cap), kOm = new Float64Array(cap), kAff = new Float64Array(cap);
let kCount = 0;
let heldCols = new Int32Array(16);
let localSlots = new Int32Array(16);
let decisionStamp = 0;

function ensureCap(k: number): void {
  if (k <= cap) return;
  cap = k;
  kSlot = new Int32Array(cap); kHead = new Int32Array(cap); kLoad = new Int32Array(cap);
  kLp = new Float64Array(cap); kAsp = new Float64Array(cap); kOm = new Float64Array(cap); kAff = new Float64Array(cap);
}

/** prefix length (0–128), healthy (1) or degraded (0), throughput class (0–3), embedded (1) or IX (0): higher ranks first */
function headKey(len: number, degraded: number, tput: number, emb: number): number {
  return (len << 8) | ((degraded ^ 1) << 4) | (tput << 1) | emb;
}

const ORIGIN_UNIT = 2 ** 32;

/**
 * Is the kept candidate j strictly worse than the new one? Order: longer prefix, healthy before
 * degraded, measured throughput class (throughput.ts), embedded before IX, higher local
 * preference, shorter AS path, lower ORIGIN (IGP < EGP < INCOMPLETE), lower MED, then load in 10%
 * steps, then the title's rendezvous hash for cache affinity. Equals keep their arrival order.
 */
function worse(j: number, head: number, lp: number, asp: number, om: number, load: number, aff: number): boolean {
  if (kHead[j] !== head) return kHead[j] < head;
  if (kLp[j] !== lp) return kLp[j] < lp;
  if (kAsp[j] !== asp) return kAsp[j] > asp;
  if (kOm[j] !== om) return kOm[j] > om;
  if (kLoad[j] !== load) return kLoad[j] > load;
  return kAff[j] < aff;
}

function offer(k: number, slot: number, head: number, lp: number, asp: number, om: number, load: number, aff: number): void {
  let pos: number;
  if (k <= 0) return;
  if (kCount < k) pos = kCount++;
  else if (worse(k - 1, head, lp, asp, om, load, aff)) pos = k - 1;
  else return;
  while (pos > 0 && worse(pos - 1, head, lp, asp, om, load, aff)) {
    const q = pos - 1;
    kSlot[pos] = kSlot[q]; kHead[pos] = kHead[q]; kLp[pos] = kLp[q];
    kAsp[pos] = kAsp[q]; kOm[pos] = kOm[q]; kLoad[pos] = kLoad[q]; kAff[pos] = kAff[q];
    pos = q;
  }
  kSlot[pos] = slot; kHead[pos] = head; kLp[pos] = lp;
  kAsp[pos] = asp; kOm[pos] = om; kLoad[pos] = load; kAff[pos] = aff;
}

export function steer(fleet: Fleet, req: SteerRequest, opts: SteerOptions): SteerDecision {
  const titleHash = fnv1a(req.titleId);
  if (req.fileIds.length > heldCols.length) heldCols = new Int32Array(req.fileIds.length * 2);
  const holders = fleet.holders;
  const nHeld = holders.into(req.fileIds, heldCols);
  const rt = fleet.routes;
  const n = rt.lookup(req.address);
  const { ok, degraded, lastReport, loadBucket, idHash, embedded, mark, apps } = fleet.slots;
  const book = opts.throughput;
  const cells: Cell[] | undefined = book !== undefined && book.size > 0 ? book.cellsOf(book.keyOfWords(req.address.family, rt.lastWords)) : undefined;
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
        offer(
          opts.topK, s, headKey(len, degraded[s], ThroughputBook.classIn(cells, s), embedded[s]), rec[o + R_LOCAL_PREF] >>> 0,
          rec[o + R_AS_PATH_LENGTH] >>> 0, (rec[o + R_PEER] >>> ORIGIN_SHIFT) * ORIGIN_UNIT + (rec[o + R_MED] >>> 0), loadBucket[s], affinity(titleHash, idHash[s]),
        );
      } else {
        holdsButUnhealthy++;
      }
    }
  }
  // The local winners are set aside until the fallback tier is known, so the answer's array is
  // made once at its size (grown by push it took ~140 of a decision's ~420 heap bytes).
  const nLocal = kCount;
  if (localSlots.length < nLocal) localSlots = new Int32Array(cap);
  for (let j = 0; j < nLocal; j++) localSlots[j] = kSlot[j];
  let miss: MissCause | undefined;
  if (nLocal === 0) miss = local === 0 ? 'no-route' : holdsButUnhealthy > 0 ? 'health' : 'content';

  kCount = 0;
  if (opts.fallbackK > 0) {
    const ix = fleet.ixSlotsInRegion(req.region);
    for (let j = 0; j < ix.length; j++) {
      const s = ix[j];
      if (mark[s] === stamp || ok[s] !== 1 || !(now - lastReport[s] <= staleAfter) || !holders.holdsAll(heldCols, nHeld, s)) continue;
      offer(opts.fallbackK, s, headKey(0, degraded[s], ThroughputBook.classIn(cells, s), 0), 0, 0, 0, loadBucket[s], affinity(titleHash, idHash[s]));
    }
  }
  const targets: SteerTarget[] = new Array(nLocal + kCount + 1);
  let nDegraded = 0;
  for (let j = 0; j < nLocal; j++) {
    const a = apps[localSlots[j]];
    nDegraded += degraded[localSlots[j]];
    targets[j] = { tier: 'local', applianceId: a.id, origin: viewerBaseUrl(a) };
  }
  for (let j = 0; j < kCount; j++) {
    const a = apps[kSlot[j]];
    nDegraded += degraded[kSlot[j]];
    targets[nLocal + j] = { tier: 'fallback', applianceId: a.id, origin: viewerBaseUrl(a) };
  }
  targets[nLocal + kCount] = { tier: 'origin', origin: opts.originUrl };
  const d: SteerDecision = { targets };
  if (miss) d.miss = miss;
  if (nDegraded > 0) d.degraded = nDegraded;
  return d;
}
