// Every reported route of every appliance, for longest-prefix steering: one prefix trie per family
// whose value is the head of a list of route records. A record is one appliance's route to the
// prefix as learned from one of its BGP peers: eight ints in one Int32Array (no object per route,
// 32 bytes, one cache line for all a decision reads of it — separate arrays per field cost a
// miss per field), each prefix's list ordered best first (higher local preference, shorter AS
// path, lower ORIGIN, lower MED) so steering meets an appliance's best route to a prefix first. A record also
// keeps where the route sits in its appliance's list (prefix-sets.ts), so finding an appliance's
// route by prefix and peer needs no map of its own. Adding, replacing or removing one route
// touches one trie path and one short list.

import type { Address, Family } from '../../../protocol/index.ts';
import { PrefixTrie } from './prefix-trie.ts';
import { addressWords, type WordsPrefix } from '../../../protocol/index.ts';

/** the BGP defaults steering assumes when a route leaves them out */
export const DEFAULT_LOCAL_PREF = 100;

const U32_MAX = 0xffffffff;
const u32 = (v: number) => (v > U32_MAX ? U32_MAX : v < 0 ? 0 : v);

/** Record layout: ints per record and each field's offset (u32 fields are read with `>>> 0`). */
export const REC = 8;
export const R_SLOT = 0, R_PEER = 1, R_LOCAL_PREF = 2, R_AS_PATH_LENGTH = 3, R_MED = 4, R_NEXT = 5, R_POS = 6, R_STAMP = 7;
/**
 * R_PEER holds the peer id in its low 16 bits (peerId caps ids there) and the route's ORIGIN
 * rank above them, so a record stays 32 bytes: read the peer as `& PEER_MASK`, the origin as
 * `>>> ORIGIN_SHIFT`.
 */
export const PEER_MASK = 0xffff, ORIGIN_SHIFT = 16;

/**
 * BGP ORIGIN as a rank, lower preferred (RFC 4271 §9.1.2.2 c: IGP < EGP < INCOMPLETE). ORIGIN is
 * well-known mandatory; a route reported without it (an older appliance, a hand-made report) is
 * taken as IGP, so it ranks as it did before control read the attribute.
 */
export function originRank(origin: 'igp' | 'egp' | 'incomplete' | undefined): number {
  return origin === 'egp' ? 1 : origin === 'incomplete' ? 2 : 0;
}

export class RouteTable {
  #v4 = new PrefixTrie(4, 1 << 16);
  #v6 = new PrefixTrie(6, 1 << 16);
  #peers = new Map<string, number>();
  #cap = 0;
  #used = 0;
  #freeHead = -1;
  #routes = 0;
  /** route records, REC ints each (read directly by steer.ts; replaced when the pool grows) */
  rec = new Int32Array(0);
  /** lookup results: list heads and prefix lengths, shortest prefix first */
  readonly heads = new Int32Array(130);
  readonly lengths = new Uint8Array(130);
  #addr = new Uint32Array(4);
  /** the address words of the last `lookup` (protocol addressWords) */
  get lastWords(): Uint32Array { return this.#addr; }

  constructor(initialRoutes = 1 << 16) {
    this.#grow(initialRoutes);
  }

  get prefixCount(): number { return this.#v4.size + this.#v6.size; }
  get routeCount(): number { return this.#routes; }
  /** bytes held in typed arrays (tries and route records) */
  get bytes(): number {
    return this.#v4.bytes + this.#v6.bytes + this.rec.byteLength;
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
    const rec = new Int32Array(cap * REC);
    rec.set(this.rec);
    this.rec = rec;
    this.#cap = cap;
  }

  #next(r: number): number { return this.rec[r * REC + R_NEXT]; }
  #setNext(r: number, n: number): void { this.rec[r * REC + R_NEXT] = n; }

  #alloc(): number {
    if (this.#freeHead >= 0) {
      const r = this.#freeHead;
      this.#freeHead = this.#next(r);
      return r;
    }
    if (this.#used === this.#cap) this.#grow(this.#cap * 2);
    return this.#used++;
  }

  /** Is record r a better route than record q? */
  #better(r: number, q: number): boolean {
    const a = this.rec, x = r * REC, y = q * REC;
    const lr = a[x + R_LOCAL_PREF] >>> 0, lq = a[y + R_LOCAL_PREF] >>> 0;
    if (lr !== lq) return lr > lq;
    const pr = a[x + R_AS_PATH_LENGTH] >>> 0, pq = a[y + R_AS_PATH_LENGTH] >>> 0;
    if (pr !== pq) return pr < pq;
    const or = a[x + R_PEER] >>> ORIGIN_SHIFT, oq = a[y + R_PEER] >>> ORIGIN_SHIFT;
    if (or !== oq) return or < oq;
    return a[x + R_MED] >>> 0 < a[y + R_MED] >>> 0;
  }

  /** Unlink (slot, peer)'s record from the list at head; returns it (or -1) and leaves the list's new head in #headOut. */
  #unlink(head: number, slot: number, peer: number): number {
    let prev = -1;
    const a = this.rec;
    for (let r = head; r >= 0; prev = r, r = a[r * REC + R_NEXT]) {
      if (a[r * REC + R_SLOT] !== slot || (a[r * REC + R_PEER] & PEER_MASK) !== peer) continue;
      if (prev < 0) this.#headOut = a[r * REC + R_NEXT];
      else { a[prev * REC + R_NEXT] = a[r * REC + R_NEXT]; this.#headOut = head; }
      return r;
    }
    this.#headOut = head;
    return -1;
  }
  #headOut = -1;

  /** whether the last `set` replaced an existing record (its pos and stamp are then kept) */
  existed = false;

  /** Add or replace appliance `slot`'s route to the prefix from `peer`; returns its record. `origin` is originRank's. */
  set(p: WordsPrefix, slot: number, peer: number, localPref: number, asPathLength: number, med: number, origin = 0): number {
    const trie = this.#trie(p.family);
    const node = trie.insert(p.words, p.length);
    let r = this.#unlink(trie.value(node), slot, peer);
    let head = this.#headOut;
    this.existed = r >= 0;
    if (r < 0) {
      r = this.#alloc();
      this.#routes++;
      this.rec[r * REC + R_POS] = -1;
      this.rec[r * REC + R_STAMP] = 0;
    }
    const a = this.rec, o = r * REC;
    a[o + R_SLOT] = slot;
    a[o + R_PEER] = peer | (origin << ORIGIN_SHIFT);
    a[o + R_LOCAL_PREF] = u32(localPref);
    a[o + R_AS_PATH_LENGTH] = u32(asPathLength);
    a[o + R_MED] = u32(med);
    // Keep the list best first; among equals, the newer goes last.
    if (head < 0 || this.#better(r, head)) {
      this.#setNext(r, head);
      head = r;
    } else {
      let q = head;
      while (this.#next(q) >= 0 && !this.#better(r, this.#next(q))) q = this.#next(q);
      this.#setNext(r, this.#next(q));
      this.#setNext(q, r);
    }
    trie.setValue(node, head);
    return r;
  }

  /** Appliance `slot`'s record for the prefix from `peer`, or -1. */
  find(p: WordsPrefix, slot: number, peer: number): number {
    const trie = this.#trie(p.family);
    const node = trie.find(p.words, p.length);
    if (node < 0) return -1;
    const a = this.rec;
    for (let r = trie.value(node); r >= 0; r = a[r * REC + R_NEXT]) {
      if (a[r * REC + R_SLOT] === slot && (a[r * REC + R_PEER] & PEER_MASK) === peer) return r;
    }
    return -1;
  }

  pos(r: number): number { return this.rec[r * REC + R_POS]; }
  setPos(r: number, pos: number): void { this.rec[r * REC + R_POS] = pos; }
  stamp(r: number): number { return this.rec[r * REC + R_STAMP]; }
  setStamp(r: number, stamp: number): void { this.rec[r * REC + R_STAMP] = stamp; }

  /** Remove appliance `slot`'s route to the prefix from `peer`; returns its pos, or -1 if it had none. */
  remove(p: WordsPrefix, slot: number, peer: number): number {
    const trie = this.#trie(p.family);
    const node = trie.find(p.words, p.length);
    if (node < 0 || trie.value(node) < 0) return -1;
    const r = this.#unlink(trie.value(node), slot, peer);
    if (r < 0) return -1;
    const pos = this.rec[r * REC + R_POS];
    const head = this.#headOut;
    this.#setNext(r, this.#freeHead);
    this.#freeHead = r;
    this.#routes--;
    if (head < 0) trie.delete(p.words, p.length);
    else trie.setValue(node, head);
    return pos;
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
