// The state shared by the store facade (store.ts) and the tiering work (tiering.ts), and the
// few operations both need: publishing a change to the workers and retiring a file's old copy.

import { unlink } from 'node:fs/promises';
import type { Clock } from './clock.ts';
import { DriveErrorWindow, errnoOf, isDriveError } from './drive-health.ts';
import { type Held, scoreRow, toEntry } from './file-table.ts';
import type { FileRow, Inventory } from './inventory.ts';
import type { StoreLogger } from './options.ts';
import type { PinTable } from './pin-table.ts';
import type { RamTier } from './ram-tier.ts';
import type { Root } from './roots.ts';
import type { ScoreSettings } from './score.ts';
import type { WorkerHub } from './worker-hub.ts';

export interface Tunables extends ScoreSettings {
  ramThreshold: number;
  rebalanceIntervalMs: number;
  ioBudgetBytes: number;
  promoteMargin: number;
  reserveBytes: number;
  driveErrorLimit: number;
  driveErrorWindowMs: number;
}

/** Monotonic counts for metrics (prom-client counters on the daemon's side). */
export interface StoreCounters {
  puts: number;
  putErrors: Record<string, number>;
  ramAdmitted: number;
  ramEvicted: number;
  promoted: number;
  demoted: number;
  bytesMoved: number;
  diskEvicted: number;
  quarantined: number;
}

/** An old copy waiting for its readers to finish before it is unlinked. */
interface Grave {
  path: string;
  slot: number;
}

export class StoreState {
  readonly files = new Map<string, Held>();
  /** fileIds being written by put() or copied by a move: one at a time per file */
  readonly busy = new Set<string>();
  /** ranks control sent for files not held yet, applied when they are put */
  readonly pendingRanks = new Map<string, number | null>();
  readonly counters: StoreCounters = {
    puts: 0, putErrors: {}, ramAdmitted: 0, ramEvicted: 0, promoted: 0, demoted: 0, bytesMoved: 0, diskEvicted: 0, quarantined: 0,
  };
  readonly roots: Root[];
  readonly inv: Inventory;
  readonly pins: PinTable;
  readonly hub: WorkerHub;
  readonly clock: Clock;
  readonly log: StoreLogger;
  readonly t: Tunables;
  ram!: RamTier;
  /** set by the facade: take a drive out of service (its files unpublished, the inventory told) */
  failDrive: (root: Root, reason: string) => void = () => {};
  private readonly driveErrors: DriveErrorWindow;
  /** set by close(): background loops stop at their next file */
  closing = false;
  private graves: Grave[] = [];

  constructor(roots: Root[], inv: Inventory, pins: PinTable, hub: WorkerHub, clock: Clock, log: StoreLogger, t: Tunables) {
    this.roots = roots;
    this.inv = inv;
    this.pins = pins;
    this.hub = hub;
    this.clock = clock;
    this.log = log;
    this.t = t;
    this.driveErrors = new DriveErrorWindow(t.driveErrorLimit, t.driveErrorWindowMs);
  }

  /**
   * A read or write on this root failed with `err` (as thrown; a StoreError's cause is looked
   * at). Errors of the drive's own making are counted; enough of them within the window fail it.
   */
  noteIoError(rootPath: string, err: unknown): void {
    const code = errnoOf(err);
    const root = this.rootOf(rootPath);
    if (!root || root.failed || !isDriveError(code)) return;
    const now = this.clock.now();
    if (!this.driveErrors.note(root.path, now)) return;
    this.driveErrors.forget(root.path);
    this.failDrive(root, `${this.t.driveErrorLimit} I/O errors (last: ${code}) within ${this.t.driveErrorWindowMs} ms`);
  }

  rootOf(path: string): Root | undefined {
    return this.roots.find((r) => r.path === path);
  }

  score(h: Held, now = this.clock.now()): number {
    return scoreRow(h.row, now, this.t);
  }

  isPinned(h: Held): boolean {
    return this.pins.pinned(h.slot);
  }

  /** Record a (new or changed) published file and tell the workers. */
  publish(row: FileRow, slot: number): Held {
    const held: Held = { row, slot, entry: toEntry(row, slot) };
    this.files.set(row.fileId, held);
    this.hub.broadcast({ type: 'store:upsert', file: held.entry });
    return held;
  }

  /**
   * Unlink an old copy once nobody reads the file. A worker may have looked the file up just
   * before the change reached it and not pinned it yet, so even an unpinned grave waits for the
   * next sweep (one rebalance period) before it goes.
   */
  bury(path: string, slot: number): void {
    this.graves.push({ path, slot });
  }

  /** Old copies on a failed drive are left there: nothing is written to it again, unlink included. */
  forgetGraves(rootPath: string): void {
    this.graves = this.graves.filter((g) => !g.path.startsWith(rootPath + '/'));
  }

  async sweepGraves(all = false): Promise<void> {
    const keep: Grave[] = [];
    const due = this.graves;
    this.graves = [];
    for (const g of due) {
      if (!all && this.pins.pinned(g.slot)) keep.push(g);
      else await unlink(g.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.log.warn({ err, path: g.path }, 'store: could not remove old copy');
      });
    }
    this.graves.push(...keep);
  }
}
