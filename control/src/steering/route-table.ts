// Every reported route of every appliance, for longest-prefix steering: one prefix trie per family
// whose value is the head of a list of route records. A record is one appliance's route to the
// prefix as learned from one of its BGP peers, held in typed arrays (no object per route, ~22
// bytes each), each prefix's list ordered best first (higher local preference, shorter AS path,
// lower MED) so steering meets an appliance's best route to a prefix first. Adding, replacing or
// removing one route touches one trie path and one short list.

import type { Address, Family } from '../../../protocol/index.ts';
import { PrefixTrie } from './prefix-trie.ts';
import { addressWords, type WordsPrefix } from '../../../protocol/index.ts';

/** the BGP defaults steering assumes when a route leaves them out */
export const DEFAULT_LOCAL_PREF = 100;

const U32_MAX = 0xffffffff;
const u32 = (v: number) => (v > U32_MAX ? U32_MAX : v < 0 ? 0 : v);

export class RouteTable {
  #v4 = new PrefixTrie(4, 1 << 16);
  #v6 = new PrefixTrie(6, 1 << 16);
  #peers = new Map<string, number>();
  #cap = 0;
  #used = 0;
  #freeHead = -1;
  #routes = 0;
  // Route records by index (read directly by steer.ts; replaced when the pool grows).
  slot = new Int32Array(0);
  peer = new Uint16Array(0);
  localPref = new Uint32Array(0);
  asPathLength = new Uint32Array(0);
  med = new Uint32Array(0);
  next = new Int32Array(0);
  /** lookup results: list heads and prefix lengths, shortest prefix first */
  readonly heads = new Int32Array(130);
  readonly lengths = new Uint8Array(130);
  #addr = new Uint32Array(4);

  constructor(initialRoutes = 1 << 16) {
    this.#grow(initialRoutes);
  }

  get prefixCount(): number { return this.#v4.size + this.#v6.size; }
  get routeCount(): number { return this.#routes; }
  /** bytes held in typed arrays (tries and route records) */
  get bytes(): number {
    return this.#v4.bytes + this.#v6.bytes + this.#cap * (4 + 2 + 4 + 4 + 4 + 4);
  }

  #trie(f: Family): PrefixTrie { return f === 4 ? this.#v4 : this.#v6; }

  /** A small integer per BGP peer name (0 for routes without one). */
  peerId(peer: string | undefined): number {
    if (peer === undefined) return 0;
    let id = this.#peers.get(peer);
    if (id === undefined) {
      id = this.#peers.size + 1;
      if (id > 0xffff) id = 0xffff; // more peers than that share an id: their routes then replace each other
      this.#peers.set(peer, id);
    }
    return id;
  }

  #grow(cap: number): void {
    const grow = <T extends Int32Array | Uint32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const a = make(cap);
      a.set(old);
      return a;
    };
    this.slot = grow(this.slot, (n) => new Int32Array(n));
    this.peer = grow(this.peer, (n) => new Uint16Array(n));
    this.localPref = grow(this.localPref, (n) => new Uint32Array(n));
    this.asPathLength = grow(this.asPathLength, (n) => new Uint32Array(n));
    this.med = grow(this.med, (n) => new Uint32Array(n));
    this.next = grow(this.next, (n) => new Int32Array(n));
    this.#cap = cap;
  }

  #alloc(): number {
    if (this.#freeHead >= 0) {
      const r = this.#freeHead;
      this.#freeHead = this.next[r];
      return r;
    }
    if (this.#used === this.#cap) this.#grow(this.#cap * 2);
    return this.#used++;
  }

  /** Is record r a better route than (lp, asp, med)? */
  #better(r: number, lp: number, asp: number, med: number): boolean {
    const l = this.localPref[r];
    if (l !== lp) return l > lp;
    const a = this.asPathLength[r];
    if (a !== asp) return a < asp;
    return this.med[r] < med;
  }

  /** Unlink (slot, peer)'s record from the list at head; returns it (or -1) and leaves the list's new head in #headOut. */
  #unlink(head: number, slot: number, peer: number): number {
    let prev = -1;
    for (let r = head; r >= 0; prev = r, r = this.next[r]) {
      if (this.slot[r] !== slot || this.peer[r] !== peer) continue;
      if (prev < 0) this.#headOut = this.next[r];
      else { this.next[prev] = this.next[r]; this.#headOut = head; }
      return r;
    }
    this.#headOut = head;
    return -1;
  }
  #headOut = -1;

  /** Add or replace appliance `slot`'s route to the prefix from `peer`. */
  set(p: WordsPrefix, slot: number, peer: number, localPref: number, asPathLength: number, med: number): void {
    const trie = this.#trie(p.family);
    const node = trie.insert(p.words, p.length);
    let r = this.#unlink(trie.value(node), slot, peer);
    let head = this.#headOut;
    if (r < 0) {
      r = this.#alloc();
      this.#routes++;
    }
    const lp = u32(localPref), asp = u32(asPathLength), m = u32(med);
    this.slot[r] = slot;
    this.peer[r] = peer;
    this.localPref[r] = lp;
    this.asPathLength[r] = asp;
    this.med[r] = m;
    // Keep the list best first; among equals, the newer goes last.
    if (head < 0 || this.#better(r, this.localPref[head], this.asPathLength[head], this.med[head])) {
      this.next[r] = head;
      head = r;
    } else {
      let q = head;
      while (this.next[q] >= 0 && !this.#better(r, this.localPref[this.next[q]], this.asPathLength[this.next[q]], this.med[this.next[q]])) q = this.next[q];
      this.next[r] = this.next[q];
      this.next[q] = r;
    }
    trie.setValue(node, head);
  }

  /** Remove appliance `slot`'s route to the prefix from `peer`; false if it had none. */
  remove(p: WordsPrefix, slot: number, peer: number): boolean {
    const trie = this.#trie(p.family);
    const node = trie.find(p.words, p.length);
    if (node < 0 || trie.value(node) < 0) return false;
    const r = this.#unlink(trie.value(node), slot, peer);
    if (r < 0) return false;
    const head = this.#headOut;
    this.next[r] = this.#freeHead;
    this.#freeHead = r;
    this.#routes--;
    if (head < 0) trie.delete(p.words, p.length);
    else trie.setValue(node, head);
    return true;
  }

  /**
   * Route lists on the path to the address: `heads[i]` is the first record of the i-th covering
   * prefix and `lengths[i]` its length, shortest first. Returns how many.
   */
  lookup(a: Address): number {
    addressWords(a, this.#addr);
    return this.#trie(a.family).matches(this.#addr, this.heads, this.lengths);
  }

  /** lookup by words already computed (family 4: words[0] only) */
  lookupWords(family: Family, words: Uint32Array): number {
    return this.#trie(family).matches(words, this.heads, this.lengths);
  }
}
