// Each appliance's route set as the store keeps it: a log of entries, each a full set or a delta,
// written with every accepted report that changed routes (Control.flush) and replayed in order by
// another control instance (ClusterSync) or by this one after a restart (Control.open), through
// the same PrefixSets paths a report takes, so the route-set hash checks the result.
//
// A full set is one compact entry, not a row per route: routes grouped by their attributes (as
// appliances send them), JSON, deflated — a 1M-route table is a few MB written once. A full
// entry replaces everything logged before it for that appliance, so the store keeps, per
// appliance, at most one full set and the deltas since. When the deltas written since the last
// full set add up to more routes than the set holds (and at least COMPACT_MIN), the next write
// is a full set from memory instead: the log is compacted into its snapshot, and replaying it
// costs at most about twice the set.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { PrefixDelta, RouteAttrs, RouteGroup } from '../../../protocol/index.ts';
import type { RouteEntry } from '../store/repository.ts';
import type { ApplianceState } from './appliance-state.ts';

/** deltas totalling fewer routes than this never trigger a compaction */
export const COMPACT_MIN = 10_000;

/** A full set as replayed: the appliance's hash of it and its routes, grouped. */
export interface RouteSetBody { hash: string; groups: RouteGroup[] }

export type DecodedEntry = ({ full: true } & RouteSetBody) | ({ full: false } & PrefixDelta);

/** Everything about a route but its prefix, as one string (routes with equal keys share a group). */
function attrsKey(r: RouteAttrs): string {
  return `${r.peer ?? ''}|${r.asPathLength}|${r.med ?? ''}|${r.localPref ?? ''}|${r.origin ?? ''}|${r.asPath?.join(' ') ?? ''}|` +
    `${r.communities?.join(' ') ?? ''}|${r.largeCommunities?.join(' ') ?? ''}`;
}

/** The appliance's routes as one full entry; undefined while control holds no hash for them (asked for the full set). */
export function encodeFull(a: ApplianceState): RouteEntry | undefined {
  if (a.prefixHash === undefined) return undefined;
  const groups = new Map<string, RouteGroup>();
  for (const r of a.routes) {
    const k = attrsKey(r);
    let g = groups.get(k);
    if (!g) {
      const { prefix: _, ...attrs } = r;
      g = { attrs, prefixes: [] };
      groups.set(k, g);
    }
    g.prefixes.push(r.prefix);
  }
  const body: RouteSetBody = { hash: a.prefixHash, groups: [...groups.values()] };
  return { full: true, body: deflateRawSync(JSON.stringify(body)) };
}

export function encodeDelta(d: PrefixDelta): RouteEntry {
  return { full: false, body: deflateRawSync(JSON.stringify(d)) };
}

export function decodeEntry(e: RouteEntry): DecodedEntry {
  const v = JSON.parse(inflateRawSync(e.body).toString('utf8'));
  return e.full ? { full: true, ...(v as RouteSetBody) } : { full: false, ...(v as PrefixDelta) };
}

/**
 * What one instance writes to the log: per appliance, the deltas accepted since the last flush,
 * or a full set (a full report, a compaction, or a write that failed and must start over).
 */
export class RouteLogWriter {
  #pending = new Map<ApplianceState, { full: boolean; deltas: PrefixDelta[] }>();
  /** routes named by the deltas this instance wrote since the last full set, per appliance */
  #since = new Map<string, number>();
  /** full entries written, and of those the compactions (for tests and metrics) */
  readonly stats = { fullWritten: 0, compactions: 0, deltasWritten: 0 };

  full(a: ApplianceState): void { this.#pending.set(a, { full: true, deltas: [] }); }

  delta(a: ApplianceState, d: PrefixDelta): void {
    const p = this.#pending.get(a);
    if (p === undefined) this.#pending.set(a, { full: false, deltas: [d] });
    else if (!p.full) p.deltas.push(d);
  }

  /** The entries to write for `a` now (taken: a failed write calls full(a) to start over). */
  take(a: ApplianceState): RouteEntry[] | undefined {
    const p = this.#pending.get(a);
    if (!p) return undefined;
    this.#pending.delete(a);
    let weight = this.#since.get(a.id) ?? 0;
    for (const d of p.deltas) weight += d.announced.length + d.withdrawn.length;
    const compact = !p.full && weight >= COMPACT_MIN && weight > a.routes.length;
    if (p.full || compact) {
      const e = encodeFull(a);
      if (e) {
        this.#since.set(a.id, 0);
        this.stats.fullWritten++;
        if (compact) this.stats.compactions++;
        return [e];
      }
    }
    this.#since.set(a.id, weight);
    this.stats.deltasWritten += p.deltas.length;
    return p.deltas.map(encodeDelta);
  }
}
