// A binary trie over address bits, one per family, with nodes in typed arrays (no object per
// node): 1M prefixes stay a few hundred MB and a lookup is ≤32 (IPv4) or ≤128 (IPv6) array reads
// with no allocation. A node's value is an index into `values`; lookups return every value on
// the path, longest prefix last, so steering can fall back to shorter matches.

import type { Family } from '../../../protocol/index.ts';

/** The bits of an address or prefix, as 32-bit words, most significant first. */
export function toWords(family: Family, v: bigint): Uint32Array {
  const n = family === 4 ? 1 : 4;
  const w = new Uint32Array(n);
  for (let i = n - 1; i >= 0; i--) {
    w[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  return w;
}

export class PrefixTrie<V> {
  #left: Int32Array;
  #right: Int32Array;
  #val: Int32Array;
  #nodes = 1;
  #values: Array<V | undefined> = [];
  #freeValues: number[] = [];
  #count = 0;

  constructor(initialNodes = 1024) {
    this.#left = new Int32Array(initialNodes);
    this.#right = new Int32Array(initialNodes);
    this.#val = new Int32Array(initialNodes).fill(-1);
  }

  get size(): number { return this.#count; }
  get nodes(): number { return this.#nodes; }

  #grow(): void {
    const cap = this.#left.length * 2;
    const l = new Int32Array(cap); l.set(this.#left); this.#left = l;
    const r = new Int32Array(cap); r.set(this.#right); this.#right = r;
    const v = new Int32Array(cap).fill(-1); v.set(this.#val); this.#val = v;
  }

  #find(words: Uint32Array, length: number, create: boolean): number {
    let node = 0;
    for (let i = 0; i < length; i++) {
      const bit = (words[i >>> 5] >>> (31 - (i & 31))) & 1;
      const arr = bit ? this.#right : this.#left;
      let next = arr[node];
      if (next === 0) {
        if (!create) return -1;
        if (this.#nodes === this.#left.length) this.#grow();
        next = this.#nodes++;
        (bit ? this.#right : this.#left)[node] = next;
      }
      node = next;
    }
    return node;
  }

  get(words: Uint32Array, length: number): V | undefined {
    const node = this.#find(words, length, false);
    return node < 0 || this.#val[node] < 0 ? undefined : this.#values[this.#val[node]];
  }

  set(words: Uint32Array, length: number, value: V): void {
    const node = this.#find(words, length, true);
    if (this.#val[node] >= 0) {
      this.#values[this.#val[node]] = value;
      return;
    }
    const slot = this.#freeValues.pop() ?? this.#values.length;
    this.#values[slot] = value;
    this.#val[node] = slot;
    this.#count++;
  }

  /** Removes the value; the empty path stays (it is reused when the prefix comes back). */
  delete(words: Uint32Array, length: number): boolean {
    const node = this.#find(words, length, false);
    if (node < 0 || this.#val[node] < 0) return false;
    this.#values[this.#val[node]] = undefined;
    this.#freeValues.push(this.#val[node]);
    this.#val[node] = -1;
    this.#count--;
    return true;
  }

  /** Every value on the path to the address, shortest prefix first; `out` is cleared and reused. */
  matches(words: Uint32Array, width: number, out: V[]): V[] {
    out.length = 0;
    let node = 0;
    for (let i = 0; ; i++) {
      const vi = this.#val[node];
      if (vi >= 0) out.push(this.#values[vi] as V);
      if (i === width) break;
      const bit = (words[i >>> 5] >>> (31 - (i & 31))) & 1;
      node = bit ? this.#right[node] : this.#left[node];
      if (node === 0) break;
    }
    return out;
  }
}
