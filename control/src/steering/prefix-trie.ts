// Prefixes of one address family → an integer each (the route table's list head), with a lookup
// that returns every stored prefix covering an address, shortest first.
//
// Layout, chosen by profile (a binary trie of per-bit nodes cost 20–48 dependent reads a lookup
// and ~12 bytes × 17M nodes for the bench's million prefixes): a direct table on the first 16
// bits, and below each entry a path-compressed binary trie (Patricia) whose nodes keep their key,
// so a lookup is one table read plus a handful of node visits, and nodes number at most twice the
// prefixes. Prefixes shorter than /16 live in their own small Patricia from the root. Nodes are
// packed in one Int32Array, `stride` ints each: [length, value, child0, child1, key words…].
// Insert and delete touch one path: cost is independent of the table size.

const LEN = 0, VAL = 1, C0 = 2, KEY = 4;
const TOP = 16;

export class PrefixTrie {
  readonly width: number;
  #words: number;
  #stride: number;
  #n: Int32Array;
  #used = 1;
  #free: number[] = [];
  #table = new Int32Array(1 << TOP);
  #size = 0;
  /** path of the last #descend: node indices and the child bit taken from each */
  #path = new Int32Array(130);

  constructor(family: 4 | 6, initialNodes = 1024) {
    this.width = family === 4 ? 32 : 128;
    this.#words = family === 4 ? 1 : 4;
    this.#stride = KEY + this.#words;
    this.#n = new Int32Array(Math.max(2, initialNodes) * this.#stride);
    this.#n[LEN] = 0;
    this.#n[VAL] = -1;
  }

  /** prefixes holding a value */
  get size(): number { return this.#size; }
  get nodes(): number { return this.#used - this.#free.length; }
  get bytes(): number { return this.#n.byteLength + this.#table.byteLength; }

  #alloc(words: ArrayLike<number>, length: number): number {
    let id = this.#free.pop();
    if (id === undefined) {
      if ((this.#used + 1) * this.#stride > this.#n.length) {
        const grown = new Int32Array(this.#n.length * 2);
        grown.set(this.#n);
        this.#n = grown;
      }
      id = this.#used++;
    }
    const n = this.#n, o = id * this.#stride;
    n[o + LEN] = length;
    n[o + VAL] = -1;
    n[o + C0] = 0;
    n[o + C0 + 1] = 0;
    for (let k = 0; k < this.#words; k++) {
      const bits = length - 32 * k;
      n[o + KEY + k] = bits >= 32 ? words[k] : bits <= 0 ? 0 : words[k] & (-1 << (32 - bits));
    }
    return id;
  }

  #bitOfNode(node: number, i: number): number {
    return (this.#n[node * this.#stride + KEY + (i >>> 5)] >>> (31 - (i & 31))) & 1;
  }

  /** Common leading bits of `words` and the node's key, at most `max`. */
  #common(words: ArrayLike<number>, node: number, max: number): number {
    const o = node * this.#stride + KEY;
    for (let k = 0; k * 32 < max; k++) {
      const x = (words[k] ^ this.#n[o + k]) >>> 0;
      if (x !== 0) return Math.min(max, k * 32 + Math.clz32(x));
    }
    return max;
  }

  /** The node for exactly this prefix, created (with value -1) if absent. */
  insert(words: ArrayLike<number>, length: number): number {
    let p: number;
    if (length < TOP) {
      p = 0;
    } else {
      const top = words[0] >>> (32 - TOP);
      p = this.#table[top];
      if (p === 0) p = this.#table[top] = this.#alloc(words, TOP);
    }
    // #alloc may replace this.#n, so it is re-read after each allocation.
    const s = this.#stride;
    for (;;) {
      const plen = this.#n[p * s + LEN];
      if (plen === length) return p;
      const bit = (words[plen >>> 5] >>> (31 - (plen & 31))) & 1;
      const c = this.#n[p * s + C0 + bit];
      if (c === 0) {
        const leaf = this.#alloc(words, length);
        this.#n[p * s + C0 + bit] = leaf;
        return leaf;
      }
      const clen = this.#n[c * s + LEN];
      const common = this.#common(words, c, Math.min(length, clen));
      if (common === clen) { p = c; continue; }
      if (common === length) {
        const m = this.#alloc(words, length);
        this.#n[m * s + C0 + this.#bitOfNode(c, length)] = c;
        this.#n[p * s + C0 + bit] = m;
        return m;
      }
      const g = this.#alloc(words, common);
      const leaf = this.#alloc(words, length);
      const lb = (words[common >>> 5] >>> (31 - (common & 31))) & 1;
      this.#n[g * s + C0 + lb] = leaf;
      this.#n[g * s + C0 + (lb ^ 1)] = c;
      this.#n[p * s + C0 + bit] = g;
      return leaf;
    }
  }

  /** Walk to exactly this prefix; fills #path; returns its depth in #path, or -1. */
  #descend(words: ArrayLike<number>, length: number): number {
    const s = this.#stride, n = this.#n;
    let p: number;
    if (length < TOP) p = 0;
    else {
      p = this.#table[words[0] >>> (32 - TOP)];
      if (p === 0) return -1;
    }
    let d = 0;
    for (;;) {
      this.#path[d] = p;
      const plen = n[p * s + LEN];
      if (plen === length) return this.#common(words, p, length) === length ? d : -1;
      if (plen > length) return -1;
      const bit = (words[plen >>> 5] >>> (31 - (plen & 31))) & 1;
      const c = n[p * s + C0 + bit];
      if (c === 0) return -1;
      d++;
      p = c;
    }
  }

  /** The node of exactly this prefix, or -1. */
  find(words: ArrayLike<number>, length: number): number {
    const d = this.#descend(words, length);
    return d < 0 ? -1 : this.#path[d];
  }

  value(node: number): number { return this.#n[node * this.#stride + VAL]; }

  setValue(node: number, v: number): void {
    const o = node * this.#stride + VAL;
    if (this.#n[o] < 0 && v >= 0) this.#size++;
    else if (this.#n[o] >= 0 && v < 0) this.#size--;
    this.#n[o] = v;
  }

  /** Clear this prefix's value and drop the nodes nothing needs any more. */
  delete(words: ArrayLike<number>, length: number): boolean {
    const d = this.#descend(words, length);
    if (d < 0) return false;
    const node = this.#path[d];
    if (this.value(node) < 0) return false;
    this.setValue(node, -1);
    this.#prune(d);
    return true;
  }

  #isRoot(node: number): boolean {
    return node === 0 || this.#n[node * this.#stride + LEN] === TOP && this.#table[this.#n[node * this.#stride + KEY] >>> (32 - TOP)] === node;
  }

  #prune(d: number): void {
    const s = this.#stride, n = this.#n;
    while (d > 0) {
      const node = this.#path[d], parent = this.#path[d - 1];
      if (n[node * s + VAL] >= 0) return;
      const c0 = n[node * s + C0], c1 = n[node * s + C0 + 1];
      if (c0 !== 0 && c1 !== 0) return;
      const slot = n[parent * s + C0] === node ? C0 : C0 + 1;
      n[parent * s + slot] = c0 !== 0 ? c0 : c1;
      this.#free.push(node);
      if (c0 !== 0 || c1 !== 0) return; // spliced out; the parent keeps its child count
      d--; // the parent lost a child: it may now be an empty glue node
    }
    const root = this.#path[0];
    if (root !== 0 && n[root * s + VAL] < 0 && n[root * s + C0] === 0 && n[root * s + C0 + 1] === 0 && this.#isRoot(root)) {
      this.#table[n[root * s + KEY] >>> (32 - TOP)] = 0;
      this.#free.push(root);
    }
  }

  /**
   * Every stored prefix covering the address: values into `values` and lengths into `lengths`,
   * shortest first; returns how many.
   */
  matches(words: ArrayLike<number>, values: Int32Array, lengths: Uint8Array): number {
    const s = this.#stride, n = this.#n, width = this.width;
    let k = 0;
    // Below /16: the small root Patricia.
    let p = 0;
    for (;;) {
      const o = p * s;
      if (n[o + VAL] >= 0) { values[k] = n[o + VAL]; lengths[k++] = n[o + LEN]; }
      const plen = n[o + LEN];
      const c = n[o + C0 + ((words[plen >>> 5] >>> (31 - (plen & 31))) & 1)];
      if (c === 0 || !this.#covers(words, c)) break;
      p = c;
    }
    p = this.#table[words[0] >>> (32 - TOP)];
    while (p !== 0) {
      const o = p * s;
      if (n[o + VAL] >= 0) { values[k] = n[o + VAL]; lengths[k++] = n[o + LEN]; }
      const plen = n[o + LEN];
      if (plen === width) break;
      const c = n[o + C0 + ((words[plen >>> 5] >>> (31 - (plen & 31))) & 1)];
      if (c === 0 || !this.#covers(words, c)) break;
      p = c;
    }
    return k;
  }

  /** Does the node's prefix cover the address? */
  #covers(words: ArrayLike<number>, node: number): boolean {
    const o = node * this.#stride;
    const n = this.#n;
    let bits = n[o + LEN];
    for (let k = 0; bits > 0; k++, bits -= 32) {
      const x = words[k] ^ n[o + KEY + k];
      if (bits >= 32 ? x !== 0 : (x & (-1 << (32 - bits))) !== 0) return false;
    }
    return true;
  }
}
