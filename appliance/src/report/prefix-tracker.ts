// Prefixes in reports. The full set (grouped by shared attributes: a full table has far fewer
// attribute sets than routes) goes the first time, when control asks, when the RIB changed more
// than a delta is worth, and every `fullSyncMs`; otherwise a delta of the routes changed since the
// set control last acknowledged (read from the RIB's journal, so it costs in proportion to the
// change), or only the hash when nothing changed. Every form carries the route-set hash, which
// control checks against its own: a lost or misapplied delta is answered with needPrefixes.
// A failed report keeps the acknowledged base and the pending changes: the next delta covers
// them too. If control had applied the failed one after all it applies those changes again
// (a delta lists final states) and the result's hash still matches: no full set is needed.

import { RouteSetHash } from '../../../protocol/index.ts';
import type { PrefixReport, RouteAttrs, RouteGroup, RouteKey } from '../../../protocol/index.ts';

/** What the reporter needs of the BGP speaker's adj-RIB-in (bgp/adj-rib-in.ts). */
export interface PrefixSource {
  /** the route-set hash over every route, O(1) */
  hash(): string;
  /** every route, grouped by shared attributes */
  groups(): RouteGroup[];
  /** changed route keys (peer → prefixes) since the last call, or null when too many to list */
  takeChanges(): Map<string, Set<string>> | null;
  /** a route as it is now, or undefined once withdrawn */
  route(peer: string, prefix: string): RouteAttrs | undefined;
}

/** A delta listing more routes than this goes as a full set instead. */
export const DELTA_MAX_ROUTES = 20_000;

export const EMPTY_PREFIX_SOURCE: PrefixSource = {
  hash: () => new RouteSetHash().toString(),
  groups: () => [],
  takeChanges: () => new Map(),
  route: () => undefined,
};

export interface BuiltPrefixes {
  report: PrefixReport;
  kind: 'full' | 'delta' | 'hash';
  /** routes listed in the report */
  routes: number;
  /** control accepted the report */
  ack: () => void;
}

export class PrefixTracker {
  #acked: string | null = null;
  /** peer → prefixes changed since the acknowledged set */
  #pending = new Map<string, Set<string>>();
  #pendingSize = 0;
  #forceFull = true;
  #lastFullAt = -Infinity;
  /** control dropped a grouped full set (it predates groups): send plain routes */
  #plainRoutes = false;
  #lastKind: BuiltPrefixes['kind'] | null = null;
  #lastGrouped = false;

  #merge(changes: Map<string, Set<string>>): void {
    for (const [peer, prefixes] of changes) {
      let p = this.#pending.get(peer);
      if (!p) this.#pending.set(peer, (p = new Set()));
      for (const x of prefixes) {
        const before = p.size;
        p.add(x);
        if (p.size > before) this.#pendingSize++;
      }
    }
  }

  build(src: PrefixSource, now: number, fullSyncMs: number): BuiltPrefixes {
    const changes = src.takeChanges();
    if (changes === null) this.#forceFull = true;
    else if (this.#pendingSize <= DELTA_MAX_ROUTES) this.#merge(changes);
    const hash = src.hash();
    const periodic = fullSyncMs > 0 && now - this.#lastFullAt >= fullSyncMs;
    const base = this.#acked;
    if (this.#forceFull || base === null || periodic || this.#pendingSize > DELTA_MAX_ROUTES) {
      const groups = src.groups();
      const grouped = !this.#plainRoutes && groups.length > 0;
      const report: PrefixReport = grouped
        ? { hash, groups }
        : { hash, routes: groups.flatMap((g) => g.prefixes.map((prefix) => ({ prefix, ...g.attrs }))) };
      const routes = groups.reduce((n, g) => n + g.prefixes.length, 0);
      return this.#built(report, 'full', routes, hash, now, grouped);
    }
    if (this.#pendingSize === 0 || hash === base) {
      // Nothing changed, or the changes cancelled out (withdrawn, then announced as before).
      return this.#built({ hash }, 'hash', 0, hash, now, false);
    }
    const announced: RouteAttrs[] = [];
    const withdrawn: RouteKey[] = [];
    for (const [peer, prefixes] of this.#pending) {
      for (const prefix of prefixes) {
        const r = src.route(peer, prefix);
        if (r) announced.push(r);
        else withdrawn.push({ prefix, peer });
      }
    }
    return this.#built({ kind: 'delta', baseHash: base, hash, announced, withdrawn }, 'delta', announced.length + withdrawn.length, hash, now, false);
  }

  #built(report: PrefixReport, kind: BuiltPrefixes['kind'], routes: number, hash: string, now: number, grouped: boolean): BuiltPrefixes {
    this.#lastKind = kind;
    this.#lastGrouped = grouped;
    // Changes journaled after this build stay in the RIB's journal for the next one.
    const sent = this.#pending;
    return {
      report, kind, routes,
      ack: () => {
        this.#acked = hash;
        if (this.#pending === sent) {
          this.#pending = new Map();
          this.#pendingSize = 0;
        }
        this.#forceFull = false;
        if (kind === 'full') this.#lastFullAt = now;
      },
    };
  }

  /** Control answered needPrefixes: the next report carries the full set. */
  needFull(): void {
    // A control that predates grouped full sets strips them and asks again: fall back to routes.
    if (this.#lastKind === 'full' && this.#lastGrouped) this.#plainRoutes = true;
    this.#forceFull = true;
  }
}
