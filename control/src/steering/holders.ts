// Which appliances hold each file, as one bitset per fileId over appliance slots. Steering asks
// "does this box hold every file of the title?" for dozens of boxes per decision; with bitsets
// that is a few Map lookups per decision and then bit tests in small, cache-warm arrays, instead
// of a hash lookup in every candidate's own (cache-cold) inventory set.

export class FileHolders {
  #words = 4;
  #bits = new Map<string, Uint32Array>();
  #names = new Map<string, string>();

  /** Make room for slot numbers below `slots`. */
  ensure(slots: number): void {
    if (slots <= this.#words * 32) return;
    while (this.#words * 32 < slots) this.#words *= 2;
    for (const [f, old] of this.#bits) {
      const grown = new Uint32Array(this.#words);
      grown.set(old);
      this.#bits.set(f, grown);
    }
  }

  /**
   * Mark the file held at `slot`; returns the one string kept for this fileId, so inventories
   * can hold it instead of their own copy (10,000 appliances × 360 files in the steering bench
   * were 3.6M strings, ~100 MB).
   */
  add(fileId: string, slot: number): string {
    let b = this.#bits.get(fileId);
    if (!b) {
      b = new Uint32Array(this.#words);
      this.#bits.set(fileId, b);
      this.#names.set(fileId, fileId);
    }
    b[slot >>> 5] |= 1 << (slot & 31);
    return this.#names.get(fileId)!;
  }

  remove(fileId: string, slot: number): void {
    const b = this.#bits.get(fileId);
    if (b) b[slot >>> 5] &= ~(1 << (slot & 31));
  }

  /**
   * The bitsets of these files into `out` (reused by steering: no allocation per decision);
   * returns how many, or -1 when some file is held nowhere.
   */
  into(fileIds: readonly string[], out: Uint32Array[]): number {
    for (let i = 0; i < fileIds.length; i++) {
      const b = this.#bits.get(fileIds[i]);
      if (!b) return -1;
      out[i] = b;
    }
    return fileIds.length;
  }

  /** The bitsets of these files, or null when some file is held nowhere. */
  of(fileIds: readonly string[]): Uint32Array[] | null {
    const out: Uint32Array[] = [];
    for (const f of fileIds) {
      const b = this.#bits.get(f);
      if (!b) return null;
      out.push(b);
    }
    return out;
  }
}

export function holdsAll(sets: readonly Uint32Array[] | null, slot: number): boolean {
  if (sets === null) return false;
  const w = slot >>> 5, bit = 1 << (slot & 31);
  for (const b of sets) if ((b[w] & bit) === 0) return false;
  return true;
}

/** holdsAll over the first `n` sets of `sets` (n < 0: some file is held nowhere). */
export function holdsAllOf(sets: readonly Uint32Array[], n: number, slot: number): boolean {
  if (n < 0) return false;
  const w = slot >>> 5, bit = 1 << (slot & 31);
  for (let i = 0; i < n; i++) if ((sets[i][w] & bit) === 0) return false;
  return true;
}
