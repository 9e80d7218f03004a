// The pin table: one Int32 per file slot in a SharedArrayBuffer that every worker also holds.
// A worker Atomics.add()s a file's slot before it reads and subtracts after; the main thread
// never evicts, moves or deletes a file whose count is non-zero. A slot is reused only once its
// count is back to zero, so a late release can never land on another file.

export class PinTable {
  readonly buffer: SharedArrayBuffer;
  private readonly counts: Int32Array;
  private readonly freeSlots: number[] = [];
  private readonly draining = new Set<number>();
  private next = 0;

  constructor(capacity: number) {
    this.buffer = new SharedArrayBuffer(capacity * 4);
    this.counts = new Int32Array(this.buffer);
  }

  get capacity(): number {
    return this.counts.length;
  }

  alloc(): number {
    this.recycle();
    const slot = this.freeSlots.pop() ?? this.next++;
    if (slot >= this.counts.length) {
      this.next--;
      throw new Error(`pin table full (${this.counts.length} files): raise maxFiles`);
    }
    return slot;
  }

  /** Give a slot back; it is reused only after its in-flight reads have finished. */
  release(slot: number): void {
    this.draining.add(slot);
    this.recycle();
  }

  pinned(slot: number): boolean {
    return Atomics.load(this.counts, slot) > 0;
  }

  private recycle(): void {
    for (const slot of this.draining) {
      if (Atomics.load(this.counts, slot) === 0) {
        this.draining.delete(slot);
        this.freeSlots.push(slot);
      }
    }
  }
}
