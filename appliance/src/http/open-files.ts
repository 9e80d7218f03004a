// Open file handles kept between responses: a player's many small range requests (index, init,
// 2 KiB probes) would otherwise pay an open() and a close() — two threadpool round trips — each.
// Keyed by the FileEntry object, not the path: a file re-published under the same id gets a new
// entry (and so a new descriptor), never the old inode's bytes. A handle is closed once idle for
// IDLE_MS, or as soon as it is unused and its entry is no longer the store's current one.

import { open, type FileHandle } from 'node:fs/promises';
import type { FileEntry, StoreView } from '../store/types.ts';

const IDLE_MS = 5_000;
const SWEEP_MS = 1_000;
const MAX_OPEN = 1_024;

interface Held {
  handle: Promise<FileHandle>;
  /** set once the open has finished */
  fh: FileHandle | undefined;
  refs: number;
  lastUsed: number;
  broken: boolean;
}

export class OpenFiles {
  #held = new Map<FileEntry, Held>();
  #view: StoreView;
  #timer: NodeJS.Timeout;

  constructor(view: StoreView) {
    this.#view = view;
    this.#timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.#timer.unref();
  }

  get size(): number {
    return this.#held.size;
  }

  /** A handle for reading the file; pair with release(). Rejects if the file cannot be opened. */
  acquire(file: FileEntry): Promise<FileHandle> {
    let h = this.#held.get(file);
    // a broken handle still in use is shared until its last user releases it (then it closes)
    if (h === undefined) {
      h = { handle: open(file.path, 'r'), fh: undefined, refs: 0, lastUsed: 0, broken: false };
      const fresh = h;
      fresh.handle.then((fh) => (fresh.fh = fh), () => {
        fresh.broken = true;
        if (this.#held.get(file) === fresh) this.#held.delete(file);
      });
      this.#held.set(file, h);
      if (this.#held.size > MAX_OPEN) this.sweep(true);
    }
    h.refs++;
    return h.handle;
  }

  /**
   * The descriptor of an already open, healthy handle, taken like acquire() (pair with
   * release()); undefined (nothing taken) when the file has no open handle yet.
   */
  acquireOpen(file: FileEntry): number | undefined {
    const h = this.#held.get(file);
    if (h === undefined || h.fh === undefined || h.broken) return undefined;
    h.refs++;
    return h.fh.fd;
  }

  /** Done with a handle; `broken` (a read failed) closes it once unused so the next read reopens. */
  release(file: FileEntry, broken = false): void {
    const h = this.#held.get(file);
    if (h === undefined) return;
    h.refs--;
    h.lastUsed = Date.now();
    if (broken) h.broken = true;
    if (h.refs === 0 && (h.broken || this.#view.get(file.fileId) !== file)) this.#close(file, h);
  }

  /** Close idle handles and those of entries the store has replaced or removed. */
  sweep(all = false): void {
    const now = Date.now();
    for (const [file, h] of this.#held) {
      if (h.refs > 0) continue;
      if (all || h.broken || now - h.lastUsed > IDLE_MS || this.#view.get(file.fileId) !== file) this.#close(file, h);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.sweep(true);
  }

  #close(file: FileEntry, h: Held): void {
    this.#held.delete(file);
    h.handle.then((fh) => fh.close()).catch(() => {});
  }
}
