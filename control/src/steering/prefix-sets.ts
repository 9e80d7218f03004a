// One appliance's reported routes kept in step with the route table: a full report replaces them
// (touching the table only where a route is new, gone or ranks differently), a delta patches them
// in time proportional to its size, and the route-set hash (protocol route-hash.ts) is kept as a
// running sum so a delta's result is checked against exactly what control holds. A delta whose
// result hashes differently from the appliance's set is answered with "send the full set".

import { attrsHash, combineRouteHash, isRouteSetHash, prefixHash, RouteSetHash } from '../../../protocol/index.ts';
import type { PrefixDelta, RouteAttrs, RouteGroup, RouteKey } from '../../../protocol/index.ts';
import type { ApplianceState } from './appliance-state.ts';
import { newWordsPrefix, parsePrefixWords } from '../../../protocol/index.ts';
import { DEFAULT_LOCAL_PREF, type RouteTable } from './route-table.ts';

/** A route's identity: its prefix as learned from one peer. */
export function routeKey(r: RouteKey): string {
  return r.peer === undefined ? r.prefix : `${r.prefix} ${r.peer}`;
}

export interface PrefixOutcome {
  /** prefixes that did not parse (skipped) */
  bad: string[];
  /** control's set no longer matches the appliance's: ask for the full set */
  needFull: boolean;
  /** the hash differed from the one computed here (a full set is kept anyway: it arrived whole) */
  mismatch: boolean;
  /** routes were changed */
  applied: boolean;
}

function sameRank(a: RouteAttrs, b: RouteAttrs): boolean {
  return (a.localPref ?? DEFAULT_LOCAL_PREF) === (b.localPref ?? DEFAULT_LOCAL_PREF) && a.asPathLength === b.asPathLength &&
    (a.med ?? 0) === (b.med ?? 0);
}

export class PrefixSets {
  readonly table: RouteTable;
  #p = newWordsPrefix();
  #ph = new Uint32Array(2);
  #rh = new Uint32Array(2);
  #ah = new Uint32Array(2);

  constructor(table: RouteTable) { this.table = table; }

  #set(a: ApplianceState, r: RouteAttrs): void {
    // callers parsed r.prefix into #p
    this.table.set(this.#p, a.slot, this.table.peerId(r.peer), r.localPref ?? DEFAULT_LOCAL_PREF, r.asPathLength, r.med ?? 0);
  }

  #unset(a: ApplianceState, r: RouteAttrs): void {
    if (parsePrefixWords(r.prefix, this.#p)) this.table.remove(this.#p, a.slot, this.table.peerId(r.peer));
  }

  /**
   * Replace the appliance's routes with `routes` and those of `groups`, whose hash the appliance
   * says is `hash`.
   */
  full(a: ApplianceState, routes: readonly RouteAttrs[], hash: string, groups: readonly RouteGroup[] = []): PrefixOutcome {
    const bad: string[] = [];
    const oldIndex = a.routeIndex, oldRoutes = a.routes;
    const index = new Map<string, number>();
    const list: RouteAttrs[] = [];
    const sum = new RouteSetHash();
    // A group's attributes are hashed once (h0, h1), its routes' prefixes one by one.
    const ph = this.#ph, rh = this.#rh;
    const add = (r: RouteAttrs, h0?: number, h1?: number) => {
      if (!parsePrefixWords(r.prefix, this.#p)) { bad.push(r.prefix); return; }
      const key = routeKey(r);
      const dup = index.get(key);
      // What the table holds for this key right now: a duplicate earlier in this report, else the old set's.
      let held: RouteAttrs | undefined;
      if (dup !== undefined) {
        held = list[dup];
        sum.remove(held);
        list[dup] = r;
      } else {
        const o = oldIndex.get(key);
        held = o === undefined ? undefined : oldRoutes[o];
        index.set(key, list.length);
        list.push(r);
      }
      if (h0 === undefined) sum.add(r);
      else {
        prefixHash(r.prefix, ph);
        combineRouteHash(ph[0], ph[1], h0, h1!, rh);
        sum.addLanes(rh[0], rh[1], 1);
      }
      if (held === undefined || !sameRank(held, r)) this.#set(a, r);
    };
    for (const r of routes) add(r);
    for (const g of groups) {
      attrsHash(g.attrs, this.#ah);
      const h0 = this.#ah[0], h1 = this.#ah[1];
      for (const prefix of g.prefixes) add({ prefix, ...g.attrs }, h0, h1);
    }
    for (let i = 0; i < oldRoutes.length; i++) {
      const o = oldRoutes[i];
      if (!index.has(routeKey(o))) this.#unset(a, o);
    }
    a.routes = list;
    a.routeIndex = index;
    a.routeSum = sum;
    a.prefixHash = hash;
    return { bad, needFull: false, mismatch: isRouteSetHash(hash) && sum.toString() !== hash, applied: true };
  }

  /**
   * Apply a delta. A delta lists each changed route's final state, so applying it twice is
   * harmless: with a route-set hash to check the result against, a delta on another base (one
   * the appliance re-sent because our answer to the first was lost) is applied, and kept if the
   * result is the appliance's set. With an opaque hash the base must be the set control holds.
   */
  delta(a: ApplianceState, d: PrefixDelta): PrefixOutcome {
    const checked = isRouteSetHash(d.hash);
    if (!checked && (a.prefixHash === undefined || d.baseHash !== a.prefixHash)) return { bad: [], needFull: true, mismatch: false, applied: false };
    const sum = a.routeSum;
    for (const w of d.withdrawn) {
      const r = this.#remove(a, routeKey(w));
      if (r) {
        this.#unset(a, r);
        sum.remove(r);
      }
    }
    const bad: string[] = [];
    for (const r of d.announced) {
      if (!parsePrefixWords(r.prefix, this.#p)) { bad.push(r.prefix); continue; }
      const key = routeKey(r);
      const i = a.routeIndex.get(key);
      if (i === undefined) {
        a.routeIndex.set(key, a.routes.length);
        a.routes.push(r);
        this.#set(a, r);
      } else {
        const old = a.routes[i];
        sum.remove(old);
        a.routes[i] = r;
        if (!sameRank(old, r)) this.#set(a, r);
      }
      sum.add(r);
    }
    if (checked && sum.toString() !== d.hash) {
      // Control's copy diverged (a lost or misapplied change): keep steering on what we have
      // and ask for the whole set.
      a.prefixHash = undefined;
      return { bad, needFull: true, mismatch: true, applied: true };
    }
    a.prefixHash = d.hash;
    return { bad, needFull: false, mismatch: false, applied: true };
  }

  /** Drop `key` from the appliance's list (swap with the last); returns the route, if held. */
  #remove(a: ApplianceState, key: string): RouteAttrs | undefined {
    const i = a.routeIndex.get(key);
    if (i === undefined) return undefined;
    const r = a.routes[i];
    const last = a.routes.pop()!;
    a.routeIndex.delete(key);
    if (i < a.routes.length) {
      a.routes[i] = last;
      a.routeIndex.set(routeKey(last), i);
    }
    return r;
  }
}
