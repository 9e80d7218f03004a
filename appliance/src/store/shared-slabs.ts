// Page-aligned buffers in memory shared with the hash thread, for the bytes a fill receives.
// A fill source's socket reads into them (fill/bulk-get.ts), so the bytes can be hashed on the
// hash thread without a copy (a message names the range) and written past the page cache
// (O_DIRECT wants the memory aligned to the block; Buffers from allocUnsafeSlow are not) without a
// copy either (stage-writer.ts). A shared WebAssembly.Memory starts on a page boundary. Its size is
// fixed, so the pool is bounded: when it is empty the caller uses ordinary memory, and such bytes
// take the slower way (copied for the hash thread, written through the page cache).

export const SHARED_SLAB = 4 << 20;
const COUNT = 48;

// (the project's TypeScript libs have no WebAssembly value types)
type Memory = { buffer: SharedArrayBuffer };
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: true }) => Memory } }).WebAssembly;

let memory: SharedArrayBuffer | null = null;
const free: number[] = [];

/** The pool's memory (made on first use). */
export function sharedMemory(): SharedArrayBuffer {
  if (memory === null) {
    const pages = (COUNT * SHARED_SLAB) / 65536;
    memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
    for (let i = COUNT - 1; i >= 0; i--) free.push(i);
  }
  return memory;
}

/** A free slab, or undefined when all are out. */
export function takeSharedSlab(): Buffer | undefined {
  const m = sharedMemory();
  const i = free.pop();
  return i === undefined ? undefined : Buffer.from(m, i * SHARED_SLAB, SHARED_SLAB);
}

/** Is this (a view of) one of the pool's slabs? */
export function isShared(b: Uint8Array): boolean {
  return memory !== null && b.buffer === memory;
}

/** Give a slab from takeSharedSlab() back. */
export function giveSharedSlab(b: Uint8Array): void {
  free.push(Math.floor(b.byteOffset / SHARED_SLAB));
}
