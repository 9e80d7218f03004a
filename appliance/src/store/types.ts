// The contract between the store (tiers, inventory, eviction; owned by the daemon's main thread)
// and the serving workers (HTTP; one worker thread per core, all listening on one port with
// reusePort). The RAM tier is the box's budget, not each worker's: the main thread holds RAM-tier
// file bytes in SharedArrayBuffers and hands every worker a zero-copy view, so a hot file is held
// once however many workers serve it. An eviction only drops references: a worker that is still
// writing a range keeps its view alive until it finishes (the GC frees the memory after).

import type { FileKind } from '../../../protocol/index.ts';

export type DiskTier = 'ssd' | 'hdd';
export type ServeTier = 'ram' | DiskTier;

/** One published, verified file, as a serving worker sees it. */
export interface FileEntry {
  fileId: string;
  bytes: number;
  sha256: string;
  kind: FileKind;
  /** for Last-Modified: when the file was published on this box */
  mtimeMs: number;
  /** strong validator: `"<sha256 prefix>"` */
  etag: string;
  /** disk tier the file lives on, and its absolute path there */
  tier: DiskTier;
  path: string;
  /** index of this file's read counter in the shared pin table (see StoreToWorker 'store:pins') */
  slot: number;
}

/** Messages main → worker. */
export type StoreToWorker =
  /** once, at worker start: Int32Array over this buffer counts in-flight reads per file slot
   *  (Atomics.add by workers); the store never evicts or moves a file whose count is non-zero.
   *  Each worker gets its own buffer, so a crashed worker's pins go away when it is detached. */
  | { type: 'store:pins'; pins: SharedArrayBuffer }
  | { type: 'store:snapshot'; files: FileEntry[] }
  | { type: 'store:upsert'; file: FileEntry }
  | { type: 'store:remove'; fileId: string }
  | { type: 'store:ram-add'; fileId: string; bytes: SharedArrayBuffer }
  | { type: 'store:ram-drop'; fileId: string };

/** Messages worker → main: demand observed by the worker, batched (about once a second). */
export type WorkerToStore = {
  type: 'store:demand';
  /** fileId → bytes served since the last batch */
  served: Record<string, number>;
  /** fileId → requests since the last batch */
  hits: Record<string, number>;
};

/** What the serving path needs, per worker. Lookups are synchronous Map reads: no I/O. */
export interface StoreView {
  get(fileId: string): FileEntry | undefined;
  /** the whole file's bytes if it is in the RAM tier */
  ram(fileId: string): Buffer | undefined;
  /** record bytes served for popularity (locally observed demand) */
  noteServed(fileId: string, bytes: number): void;
  /** mark a read of this file in flight (pin table); call the returned function exactly once
   *  when the response has finished or failed */
  pin(file: FileEntry): () => void;
}
