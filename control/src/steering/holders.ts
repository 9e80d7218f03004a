// Which appliances hold each file, as a bit matrix: one row per appliance slot, one column per
// fileId. Steering asks "does this box hold every file of the title?" for a dozen boxes per
// decision. Rows, not per-file bitsets: a title's files get neighbouring columns (they arrive
// together in inventories), so the question for one box is one word of its row, one cache miss,
// where per-file bitsets cost a miss per file per box (the steering bench's profile: random
// titles made the p99 three times the p99 of one repeated title).

export class FileHolders {
  #cols = new Map<string, number>();
  /** column → the one string kept for that fileId */
  #names: string[] = [];
  /** 32-bit words per row */
  words = 1;
  /** rows × words; replaced when either grows (steering reads it per decision) */
  rows = new Uint32Array(64);
  #slots = 64;

  /** Make room for slot numbers below `slots`. */
  ensure(slots: number): void {
    if (slots <= this.#slots) return;
    let n = this.#slots;
    while (n < slots) n *= 2;
    const grown = new Uint32Array(n * this.words);
    grown.set(this.rows);
    this.rows = grown;
    this.#slots = n;
  }

  #column(fileId: string): number {
    let c = this.#cols.get(fileId);
    if (c !== undefined) return c;
    c = this.#names.length;
    if (c >= this.words * 32) {
      // Twice the columns: every row is copied into its wider place.
      const w = this.words * 2;
      const grown = new Uint32Array(this.#slots * w);
      for (let s = 0; s < this.#slots; s++) grown.set(this.rows.subarray(s * this.words, (s + 1) * this.words), s * w);
      this.rows = grown;
      this.words = w;
    }
    this.#cols.set(fileId, c);
    this.#names.push(fileId);
    return c;
  }

  /**
   * Mark the file held at `slot`; returns the one string kept for this fileId, so inventories
   * can hold it instead of their own copy (10,000 appliances × 360 files in the steering bench
   * were 3.6M strings, ~100 MB).
   */
  add(fileId: string, slot: number): string {
    const c = this.#column(fileId);
    this.rows[slot * this.words + (c >>> 5)] |= 1 << (c & 31);
    return this.#names[c];
  }

  remove(fileId: string, slot: number): void {
    const c = this.#cols.get(fileId);
    if (c !== undefined) this.rows[slot * this.words + (c >>> 5)] &= ~(1 << (c & 31));
  }

  /**
   * The columns of these files into `out` (reused by steering: no allocation per decision);
   * returns how many, or -1 when some file was never held anywhere.
   */
  into(fileIds: readonly string[], out: Int32Array): number {
    for (let i = 0; i < fileIds.length; i++) {
      const c = this.#cols.get(fileIds[i]);
      if (c === undefined) return -1;
      out[i] = c;
    }
    return fileIds.length;
  }

  /** Does `slot` hold every file of `cols[0..n)` (n < 0: some file is held nowhere)? */
  holdsAll(cols: Int32Array, n: number, slot: number): boolean {
    if (n < 0) return false;
    const rows = this.rows, base = slot * this.words;
    for (let i = 0; i < n; i++) {
      const c = cols[i];
      if ((rows[base + (c >>> 5)] & (1 << (c & 31))) === 0) return false;
    }
    return true;
  }
}
