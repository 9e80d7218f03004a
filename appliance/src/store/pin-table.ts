// The pin table: every attached worker gets its own SharedArrayBuffer with one Int32 per file
// slot. A worker Atomics.add()s a file's slot before it reads and subtracts after; the main
// thread never evicts, moves or deletes a file whose count is non-zero in any worker's table.
// One table per worker means a worker that crashes mid-response takes its pins with it when it
// is detached, instead of pinning those files forever. A slot is reused only once every count
// for it is back to zero, so a late release can never land on another file.

export class PinTable {
  readonly capacity: number;
  private readonly tables = new Set<Int32Array>();
  private readonly freeSlots: number[] = [];
  private readonly draining = new Set<number>();
  private next = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A new table for a worker (posted to it as 'store:pins'). */
  addTable(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(this.capacity * 4);
    this.tables.add(new Int32Array(buffer));
    return buffer;
  }

  /** Forget a worker's table (the worker is gone, and so are its reads). */
  removeTable(buffer: SharedArrayBuffer): void {
    for (const t of this.tables) if (t.buffer === buffer) this.tables.delete(t);
  }

  alloc(): number {
    this.recycle();
    const slot = this.freeSlots.pop() ?? this.next++;
    if (slot >= this.capacity) {
      this.next--;
      throw new Error(`pin table full (${this.capacity} files): raise maxFiles`);
    }
    return slot;
  }

  /** Give a slot back; it is reused only after its in-flight reads have finished. */
  release(slot: number): void {
    this.draining.add(slot);
    this.recycle();
  }

  pinned(slot: number): boolean {
    for (const t of this.tables) if (Atomics.load(t, slot) > 0) return true;
    return false;
  }

  private recycle(): void {
    for (const slot of this.draining) {
      if (!this.pinned(slot)) {
        this.draining.delete(slot);
        this.freeSlots.push(slot);
      }
    }
  }
}
