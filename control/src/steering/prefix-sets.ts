// One appliance's reported routes kept in step with the route table: a full report replaces them
// (touching the table only where a route is new, gone or ranks differently), a delta patches them
// in time proportional to its size, and the route-set hash (protocol route-hash.ts) is kept as a
// running sum so a delta's result is checked against exactly what control holds. A delta whose
// result hashes differently from the appliance's set is answered with "send the full set".

import { attrsHash, combineRouteHash, isRouteSetHash, prefixHash, RouteSetHash } from '../../../protocol/index.ts';
import type { PrefixDelta, RouteAttrs, RouteGroup, RouteKey } from '../../../protocol/index.ts';
import type { ApplianceState } from './appliance-state.ts';
import { newWordsPrefix, parsePrefixWords } from '../../../protocol/index.ts';
import { DEFAULT_LOCAL_PREF, originRank, type RouteTable } from './route-table.ts';

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
    originRank(a.origin) === originRank(b.origin) && (a.med ?? 0) === (b.med ?? 0);
}

export class PrefixSets {
  readonly table: RouteTable;
  #p = newWordsPrefix();
  #ph = new Uint32Array(2);
  #rh = new Uint32Array(2);
  #ah = new Uint32Array(2);
  #stamp = 0;

  constructor(table: RouteTable) { this.table = table; }

  /** Write r's record (callers parsed r.prefix into #p); returns it. */
  #set(a: ApplianceState, r: RouteAttrs, peer: number): number {
    return this.table.set(this.#p, a.slot, peer, r.localPref ?? DEFAULT_LOCAL_PREF, r.asPathLength, r.med ?? 0, originRank(r.origin));
  }

  /**
   * Replace the appliance's routes with `routes` and those of `groups`, whose hash the appliance
   * says is `hash`. Records of routes that stay as they were are only re-stamped; the rest are
   * written; those of routes no longer reported are removed.
   */
  full(a: ApplianceState, routes: readonly RouteAttrs[], hash: string, groups: readonly RouteGroup[] = []): PrefixOutcome {
    const t = this.table, p = this.#p, slot = a.slot;
    const bad: string[] = [];
    const old = a.routes;
    const list: RouteAttrs[] = [];
    const sum = new RouteSetHash();
    const stamp = this.#stamp = this.#stamp >= 0x7ffffffe ? 1 : this.#stamp + 1;
    // A group's attributes are hashed once (h0, h1), its routes' prefixes one by one.
    const ph = this.#ph, rh = this.#rh;
    const hashIn = (r: RouteAttrs, h0: number | undefined, h1: number, sign: 1 | -1) => {
      if (h0 === undefined) {
        if (sign > 0) sum.add(r);
        else sum.remove(r);
        return;
      }
      prefixHash(r.prefix, ph);
      combineRouteHash(ph[0], ph[1], h0, h1, rh);
      sum.addLanes(rh[0], rh[1], sign);
    };
    const add = (r: RouteAttrs, h0?: number, h1 = 0) => {
      if (!parsePrefixWords(r.prefix, p)) { bad.push(r.prefix); return; }
      const peer = t.peerId(r.peer);
      if (old.length > 0) {
        const rec = t.find(p, slot, peer);
        if (rec >= 0 && t.stamp(rec) !== stamp && sameRank(old[t.pos(rec)], r)) {
          t.setPos(rec, list.length);
          t.setStamp(rec, stamp);
          list.push(r);
          hashIn(r, h0, h1, 1);
          return;
        }
      }
      const rec = this.#set(a, r, peer);
      if (t.existed && t.stamp(rec) === stamp) {
        // The same route twice in one report: the last one counts.
        const i = t.pos(rec);
        sum.remove(list[i]);
        list[i] = r;
        hashIn(r, h0, h1, 1);
        return;
      }
      t.setPos(rec, list.length);
      t.setStamp(rec, stamp);
      list.push(r);
      hashIn(r, h0, h1, 1);
    };
    for (const r of routes) add(r);
    for (const g of groups) {
      attrsHash(g.attrs, this.#ah);
      const h0 = this.#ah[0], h1 = this.#ah[1];
      for (const prefix of g.prefixes) add({ prefix, ...g.attrs }, h0, h1);
    }
    for (const o of old) {
      if (!parsePrefixWords(o.prefix, p)) continue;
      const peer = t.peerId(o.peer);
      const rec = t.find(p, slot, peer);
      if (rec >= 0 && t.stamp(rec) !== stamp) t.remove(p, slot, peer);
    }
    a.routes = list;
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
    const t = this.table, p = this.#p, slot = a.slot, sum = a.routeSum;
    for (const w of d.withdrawn) {
      if (!parsePrefixWords(w.prefix, p)) continue;
      const pos = t.remove(p, slot, t.peerId(w.peer));
      if (pos < 0) continue;
      sum.remove(a.routes[pos]);
      this.#dropAt(a, pos);
    }
    const bad: string[] = [];
    for (const r of d.announced) {
      if (!parsePrefixWords(r.prefix, p)) { bad.push(r.prefix); continue; }
      const peer = t.peerId(r.peer);
      const rec = t.find(p, slot, peer);
      if (rec >= 0) {
        const i = t.pos(rec);
        const old = a.routes[i];
        sum.remove(old);
        a.routes[i] = r;
        if (!sameRank(old, r)) this.#set(a, r, peer); // same record: its pos is kept
      } else {
        t.setPos(this.#set(a, r, peer), a.routes.length);
        a.routes.push(r);
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

  /** Take the route at `pos` out of the appliance's list (the last one moves into its place). */
  #dropAt(a: ApplianceState, pos: number): void {
    const last = a.routes.pop()!;
    if (pos === a.routes.length) return;
    a.routes[pos] = last;
    const p = this.#p;
    if (parsePrefixWords(last.prefix, p)) {
      const rec = this.table.find(p, a.slot, this.table.peerId(last.peer));
      if (rec >= 0) this.table.setPos(rec, pos);
    }
  }
}
