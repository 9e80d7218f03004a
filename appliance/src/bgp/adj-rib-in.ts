// Adj-RIB-In: the routes each neighbor announced and we accepted, kept compact because a router
// may send a full table (a million routes). Per peer, one Map from prefix to a small integer: the
// route's attribute set, interned (every prefix of one UPDATE shares its attributes, and a table
// has far fewer distinct sets than routes). No object per route: ~60–80 bytes a route, measured
// by `npm run bench:bgp`. Routes come out in control's shape (protocol RouteAttrs) on demand.
//
// The route-set hash (protocol route-hash.ts) is a running sum, so it costs O(1) per change and
// nothing to read; prefixes changed since the reporter last looked are journaled per peer, so a
// delta report costs in proportion to the change. When a session drops its routes go stale
// rather than away; a stale route is refreshed by a re-announcement and swept at End-of-RIB or
// when the stale time runs out.

import { combineRouteHash, attrsHash, prefixHash, RouteSetHash } from '../../../protocol/index.ts';
import type { RouteAttrs, RouteKey } from '../../../protocol/index.ts';
import { prefixFamily } from './nlri.ts';

export type RouteAttributes = Omit<RouteAttrs, 'prefix'>;

interface AttrSet { id: number; attrs: RouteAttributes; key: string; h0: number; h1: number; refs: number }

/** Past this many journaled changes the journal is dropped and the next report is a full set. */
export const JOURNAL_LIMIT = 50_000;

/** Changed route keys since the last `takeChanges`, or null when too many to list. */
export type RibChanges = Map<string, Set<string>> | null;

export class AdjRibIn {
  // peer → prefix → attribute set id (≥ 0), or ~id (< 0) while stale
  #peers = new Map<string, Map<string, number>>();
  #sets: (AttrSet | undefined)[] = [];
  #freeSets: number[] = [];
  #setByKey = new Map<string, number>();
  /** the speaker hands the same object for the same attributes: a lookup without building a key */
  #setByObject = new WeakMap<RouteAttributes, AttrSet>();
  #sum = new RouteSetHash();
  #journal = new Map<string, Set<string>>();
  #journalSize = 0;
  #journalOverflow = false;
  #version = 0;
  #snapshot: { version: number; hash: string; routes: RouteAttrs[] } | null = null;
  #listeners = new Set<() => void>();
  #ph = new Uint32Array(2);
  #rh = new Uint32Array(2);

  /** bumps on every change; cheap to poll */
  get version(): number { return this.#version; }
  /** distinct attribute sets held */
  get attributeSets(): number { return this.#setByKey.size; }
  get size(): number { return this.#sum.count; }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    this.#version++;
    for (const fn of this.#listeners) fn();
  }

  #table(peer: string): Map<string, number> {
    let t = this.#peers.get(peer);
    if (!t) this.#peers.set(peer, (t = new Map()));
    return t;
  }

  count(peer: string): number {
    return this.#peers.get(peer)?.size ?? 0;
  }

  has(peer: string, prefix: string): boolean {
    return this.#peers.get(peer)?.has(prefix) ?? false;
  }

  /** The attribute set for these attributes (with the peer), created if new; not yet referenced. */
  #intern(attrs: RouteAttributes): number {
    const known = this.#setByObject.get(attrs);
    if (known !== undefined && this.#sets[known.id] === known) return known.id;
    const key = JSON.stringify([attrs.asPathLength, attrs.asPath, attrs.med, attrs.localPref, attrs.origin, attrs.communities, attrs.largeCommunities, attrs.peer]);
    let id = this.#setByKey.get(key);
    if (id === undefined) {
      const h = this.#rh;
      attrsHash(attrs, h);
      id = this.#freeSets.pop() ?? this.#sets.length;
      this.#sets[id] = { id, attrs, key, h0: h[0], h1: h[1], refs: 0 };
      this.#setByKey.set(key, id);
    }
    this.#setByObject.set(attrs, this.#sets[id]!);
    return id;
  }

  #unref(id: number): void {
    const set = this.#sets[id]!;
    if (--set.refs > 0) return;
    this.#setByKey.delete(set.key);
    this.#sets[id] = undefined;
    this.#freeSets.push(id);
  }

  /** Add (sign 1) or remove (-1) the route (prefix, set id) to the running hash. */
  #hash(prefix: string, id: number, sign: 1 | -1): void {
    const set = this.#sets[id]!;
    prefixHash(prefix, this.#ph);
    combineRouteHash(this.#ph[0], this.#ph[1], set.h0, set.h1, this.#rh);
    this.#sum.addLanes(this.#rh[0], this.#rh[1], sign);
  }

  #journalAdd(peer: string, prefix: string): void {
    if (this.#journalOverflow) return;
    let j = this.#journal.get(peer);
    if (!j) this.#journal.set(peer, (j = new Set()));
    const before = j.size;
    j.add(prefix);
    if (j.size > before && ++this.#journalSize > JOURNAL_LIMIT) {
      this.#journal.clear();
      this.#journalSize = 0;
      this.#journalOverflow = true;
    }
  }

  /** Returns whether the route's content changed (a stale route re-announced as it was did not). */
  #set(peer: string, t: Map<string, number>, prefix: string, id: number): boolean {
    const old = t.get(prefix);
    if (old !== undefined) {
      const oldId = old < 0 ? ~old : old;
      if (oldId === id) {
        if (old < 0) t.set(prefix, id); // fresh again
        return false;
      }
      this.#hash(prefix, oldId, -1);
      this.#unref(oldId);
    }
    this.#sets[id]!.refs++;
    this.#hash(prefix, id, 1);
    t.set(prefix, id);
    this.#journalAdd(peer, prefix);
    return true;
  }

  #delete(peer: string, t: Map<string, number>, prefix: string): boolean {
    const old = t.get(prefix);
    if (old === undefined) return false;
    const id = old < 0 ? ~old : old;
    this.#hash(prefix, id, -1);
    this.#unref(id);
    t.delete(prefix);
    this.#journalAdd(peer, prefix);
    return true;
  }

  /**
   * Apply one UPDATE's worth of changes and notify once: withdrawals, then `announced` with the
   * attributes they share (`attrs.peer` should be the peer).
   */
  applyUpdate(peer: string, withdrawn: readonly string[], announced: readonly string[], attrs: RouteAttributes | null): void {
    if (withdrawn.length === 0 && announced.length === 0) return;
    const t = this.#table(peer);
    let changed = false;
    for (const p of withdrawn) if (this.#delete(peer, t, p)) changed = true;
    if (announced.length > 0) {
      if (!attrs) throw new Error('announced routes need attributes');
      const id = this.#intern(attrs);
      for (const p of announced) if (this.#set(peer, t, p, id)) changed = true;
    }
    if (changed) this.#changed();
  }

  /** Apply routes in RouteAttrs form (each with its own attributes); for tests and tools. */
  apply(peer: string, withdrawn: readonly string[], announced: readonly RouteAttrs[]): void {
    this.applyUpdate(peer, withdrawn, [], null);
    for (const { prefix, ...attrs } of announced) this.applyUpdate(peer, [], [prefix], attrs);
  }

  markStale(peer: string): number {
    const t = this.#peers.get(peer);
    if (!t) return 0;
    for (const [p, v] of t) if (v >= 0) t.set(p, ~v);
    return t.size;
  }

  /** Remove the peer's routes still stale (optionally only one family); returns how many went. */
  sweepStale(peer: string, family?: 4 | 6): number {
    const t = this.#peers.get(peer);
    if (!t) return 0;
    let n = 0;
    for (const [p, v] of t) {
      if (v >= 0) continue;
      if (family && prefixFamily(p) !== family) continue;
      this.#delete(peer, t, p);
      n++;
    }
    if (n > 0) this.#changed();
    return n;
  }

  clearPeer(peer: string): void {
    const t = this.#peers.get(peer);
    if (!t || t.size === 0) return;
    for (const p of [...t.keys()]) this.#delete(peer, t, p);
    this.#changed();
  }

  /** The route-set hash over every route (O(1)). */
  hash(): string {
    return this.#sum.toString();
  }

  /** One route in control's shape, or undefined. */
  route(peer: string, prefix: string): RouteAttrs | undefined {
    const v = this.#peers.get(peer)?.get(prefix);
    if (v === undefined) return undefined;
    return { prefix, ...this.#sets[v < 0 ? ~v : v]!.attrs };
  }

  /** Every route grouped by attribute set: the compact form of a full report. */
  groups(): { attrs: RouteAttributes; prefixes: string[] }[] {
    const byId = new Map<number, string[]>();
    for (const t of this.#peers.values()) {
      for (const [p, v] of t) {
        const id = v < 0 ? ~v : v;
        let list = byId.get(id);
        if (!list) byId.set(id, (list = []));
        list.push(p);
      }
    }
    return [...byId].map(([id, prefixes]) => ({ attrs: this.#sets[id]!.attrs, prefixes }));
  }

  /**
   * The route keys changed since the last call (their current state is read with `route`), or
   * null when more changed than the journal keeps (send the full set). Starts a new journal.
   */
  takeChanges(): RibChanges {
    const out = this.#journalOverflow ? null : this.#journal;
    this.#journal = new Map();
    this.#journalSize = 0;
    this.#journalOverflow = false;
    return out;
  }

  /** Every route, sorted by prefix then peer, with the route-set hash. */
  snapshot(): { hash: string; routes: RouteAttrs[] } {
    if (this.#snapshot?.version === this.#version) return this.#snapshot;
    const routes: RouteAttrs[] = [];
    for (const t of this.#peers.values()) {
      for (const [p, v] of t) routes.push({ prefix: p, ...this.#sets[v < 0 ? ~v : v]!.attrs });
    }
    routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : (a.peer ?? '') < (b.peer ?? '') ? -1 : 1));
    this.#snapshot = { version: this.#version, hash: this.hash(), routes };
    return this.#snapshot;
  }
}

/** A journaled change as a delta entry: the route as it is now, or its withdrawal. */
export function changeOf(rib: AdjRibIn, peer: string, prefix: string): { announce: RouteAttrs } | { withdraw: RouteKey } {
  const r = rib.route(peer, prefix);
  return r ? { announce: r } : { withdraw: { prefix, peer } };
}
