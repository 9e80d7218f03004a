// Adj-RIB-In: the routes each neighbor announced and we accepted, in the shape control consumes
// (protocol RouteAttrs). When a session drops its routes go stale rather than away; a stale route
// is refreshed by a re-announcement and swept at End-of-RIB or when the stale time runs out.

import { createHash } from 'node:crypto';
import type { RouteAttrs } from '../../../protocol/index.ts';

interface Entry { route: RouteAttrs; stale: boolean }

export class AdjRibIn {
  #peers = new Map<string, Map<string, Entry>>();
  #version = 0;
  #hashCache: { version: number; hash: string; routes: RouteAttrs[] } | null = null;
  #listeners = new Set<() => void>();

  /** bumps on every change; cheap to poll */
  get version(): number { return this.#version; }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    this.#version++;
    for (const fn of this.#listeners) fn();
  }

  #table(peer: string): Map<string, Entry> {
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

  /** Apply one UPDATE's worth of changes and notify once. */
  apply(peer: string, withdrawn: readonly string[], announced: readonly RouteAttrs[]): void {
    if (withdrawn.length === 0 && announced.length === 0) return;
    const t = this.#table(peer);
    for (const p of withdrawn) t.delete(p);
    for (const r of announced) t.set(r.prefix, { route: r, stale: false });
    this.#changed();
  }

  markStale(peer: string): number {
    const t = this.#peers.get(peer);
    if (!t) return 0;
    for (const e of t.values()) e.stale = true;
    return t.size;
  }

  /** Remove the peer's routes still stale (optionally only one family); returns how many went. */
  sweepStale(peer: string, family?: 4 | 6): number {
    const t = this.#peers.get(peer);
    if (!t) return 0;
    let n = 0;
    for (const [p, e] of t) {
      if (!e.stale) continue;
      if (family && (p.includes(':') ? 6 : 4) !== family) continue;
      t.delete(p);
      n++;
    }
    if (n > 0) this.#changed();
    return n;
  }

  clearPeer(peer: string): void {
    const t = this.#peers.get(peer);
    if (t && t.size > 0) {
      t.clear();
      this.#changed();
    }
  }

  /** Every route, sorted by prefix then peer, with a hash over exactly that list. */
  snapshot(): { hash: string; routes: RouteAttrs[] } {
    if (this.#hashCache?.version === this.#version) return this.#hashCache;
    const routes: RouteAttrs[] = [];
    for (const t of this.#peers.values()) for (const e of t.values()) routes.push(e.route);
    routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : (a.peer ?? '') < (b.peer ?? '') ? -1 : 1));
    const h = createHash('sha256');
    for (const r of routes) h.update(JSON.stringify(r)).update('\n');
    this.#hashCache = { version: this.#version, hash: h.digest('hex'), routes };
    return this.#hashCache;
  }
}
