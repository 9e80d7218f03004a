// The prefix-set hash appliance and control both compute, so a delta can be checked end to end.
// It is a sum, per 32-bit lane, of a 64-bit hash of each route: order does not matter and adding
// or removing one route changes it in O(1), so neither side ever sorts or re-hashes the table.
// It detects lost or misapplied deltas (not tampering: the report is authenticated anyway).
// Text form: `rs1:<route count>:<16 hex digits>`.

import type { RouteAttrs } from './report.ts';

export const ROUTE_SET_HASH_PREFIX = 'rs1:';

export function isRouteSetHash(s: string): boolean {
  return s.startsWith(ROUTE_SET_HASH_PREFIX);
}

const C1 = 0xcc9e2d51, C2 = 0x1b873593;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Two murmur3-style lanes fed 32-bit words; `tag` keeps fields apart. */
class Mixer {
  a = 0x9747b28c | 0;
  b = 0x5bd1e995 | 0;
  n = 0;
  word(k: number): void {
    let x = Math.imul(k | 0, C1);
    x = (x << 15) | (x >>> 17);
    x = Math.imul(x, C2);
    this.a ^= x;
    this.a = (this.a << 13) | (this.a >>> 19);
    this.a = (Math.imul(this.a, 5) + 0xe6546b64) | 0;
    let y = Math.imul(k | 0, C2);
    y = (y << 17) | (y >>> 15);
    y = Math.imul(y, C1);
    this.b ^= y;
    this.b = (this.b << 15) | (this.b >>> 17);
    this.b = (Math.imul(this.b, 9) + 0x38495ab5) | 0;
    this.n++;
  }
  num(v: number): void {
    this.word(v >>> 0);
    this.word(Math.floor(v / 4294967296) >>> 0);
  }
  str(s: string): void {
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }
}

const scratch = new Mixer();

function reset(m: Mixer, seedA: number, seedB: number): Mixer {
  m.a = seedA | 0;
  m.b = seedB | 0;
  m.n = 0;
  return m;
}

/** The 64-bit hash of a prefix string, as two lanes written into out[0], out[1]. */
export function prefixHash(prefix: string, out: Uint32Array | number[]): void {
  const m = reset(scratch, 0x2c1b3c6d, 0x297a2d39);
  m.str(prefix);
  out[0] = fmix(m.a ^ m.n);
  out[1] = fmix(m.b ^ Math.imul(m.n, 0x27d4eb2f));
}

/**
 * The 64-bit hash of everything in a route but its prefix. Absent and empty lists hash alike;
 * absent and zero numbers do not. An appliance computes this once per attribute set.
 */
export function attrsHash(r: Omit<RouteAttrs, 'prefix'>, out: Uint32Array | number[]): void {
  const m = reset(scratch, 0x7f4a7c15, 0x165667b1);
  m.num(r.asPathLength);
  const path = r.asPath ?? [];
  m.word(path.length);
  for (const asn of path) m.num(asn);
  m.word(r.med === undefined ? 0 : 1);
  if (r.med !== undefined) m.num(r.med);
  m.word(r.localPref === undefined ? 0 : 1);
  if (r.localPref !== undefined) m.num(r.localPref);
  m.word(r.origin === undefined ? 0 : r.origin === 'igp' ? 1 : r.origin === 'egp' ? 2 : 3);
  const cs = r.communities ?? [];
  m.word(cs.length);
  for (const c of cs) m.str(c);
  const ls = r.largeCommunities ?? [];
  m.word(ls.length);
  for (const c of ls) m.str(c);
  m.word(r.peer === undefined ? 0 : 1);
  if (r.peer !== undefined) m.str(r.peer);
  out[0] = fmix(m.a ^ m.n);
  out[1] = fmix(m.b ^ Math.imul(m.n, 0x27d4eb2f));
}

/** One route's 64-bit hash from its two parts (non-linear, so sums of routes do not cancel). */
export function combineRouteHash(p0: number, p1: number, a0: number, a1: number, out: Uint32Array | number[]): void {
  out[0] = fmix((Math.imul(p0, C1) ^ a0 ^ 0x68e31da4) >>> 0);
  out[1] = fmix((Math.imul(p1, C2) + Math.imul(a1, 0x85ebca6b) + 0x1b56c4e9) >>> 0);
}

const pt = new Uint32Array(2), at = new Uint32Array(2);

export function routeHash(r: RouteAttrs, out: Uint32Array | number[]): void {
  prefixHash(r.prefix, pt);
  attrsHash(r, at);
  combineRouteHash(pt[0], pt[1], at[0], at[1], out);
}

/** The running sum over a set of routes. */
export class RouteSetHash {
  lo = 0;
  hi = 0;
  count = 0;
  #h = new Uint32Array(2);

  /** add (sign 1) or remove (sign -1) one route's hash lanes */
  addLanes(h0: number, h1: number, sign: 1 | -1): void {
    this.lo = (this.lo + sign * h0) >>> 0;
    this.hi = (this.hi + sign * h1) >>> 0;
    this.count += sign;
  }

  add(r: RouteAttrs): void {
    routeHash(r, this.#h);
    this.addLanes(this.#h[0], this.#h[1], 1);
  }

  remove(r: RouteAttrs): void {
    routeHash(r, this.#h);
    this.addLanes(this.#h[0], this.#h[1], -1);
  }

  copy(): RouteSetHash {
    const c = new RouteSetHash();
    c.lo = this.lo; c.hi = this.hi; c.count = this.count;
    return c;
  }

  toString(): string {
    return `${ROUTE_SET_HASH_PREFIX}${this.count}:${this.hi.toString(16).padStart(8, '0')}${this.lo.toString(16).padStart(8, '0')}`;
  }
}

export function routeSetHash(routes: Iterable<RouteAttrs>): string {
  const h = new RouteSetHash();
  for (const r of routes) h.add(r);
  return h.toString();
}
