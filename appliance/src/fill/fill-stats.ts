// Fill's running totals since the daemon started: what the report, /v1/status and /metrics show.

import type { FillFailure, FillLevel } from '../../../protocol/index.ts';
import type { BadSource } from './errors.ts';

export type ByLevel = Record<FillLevel, number>;

const zero = (): ByLevel => ({ peer: 0, tier: 0, origin: 0 });

export const MAX_BAD_SOURCES = 50;

export class FillStats {
  /** bytes received, by the level of the source that sent them */
  readonly bytes = zero();
  /** bytes received and then thrown away because the file they made failed verification */
  readonly failedBytes = zero();
  /** tries of a source that failed, by level */
  readonly failures = zero();
  /** 404s from peer and tier sources that do not hold the file yet (planned holders): not failures */
  readonly notYet = zero();
  /** files published by fill, by the level that sent their last bytes */
  readonly files = zero();
  /** downloads given up on (every allowed source failed) */
  downloadsFailed = 0;
  /**
   * Where the tries of sources spent their time, summed over tries (seconds): in all, and of that
   * waiting for the source's next bytes, or for a write slot (the disk and the hash thread behind).
   * The rest is the download's own work, the rate limit's waits, or waiting for the CPU.
   * The store wait is split by what the awaited append was still doing when it began to be
   * waited for, up to when it ended: its writes (the disk: `storeWriteWaitSeconds`), or, once they
   * were done, only its hash (the hash thread, or its queue: `storeHashWaitSeconds`).
   * `appends` / `appendedBytes`: the batches handed to the store (each one hash message and its
   * writes) and their bytes — the mean is the size of the disk's writes.
   */
  readonly pipeline = { fetchSeconds: 0, sourceWaitSeconds: 0, storeWaitSeconds: 0, storeWriteWaitSeconds: 0, storeHashWaitSeconds: 0, appends: 0, appendedBytes: 0 };
  /** recent source failures, newest first */
  readonly badSources: BadSource[] = [];

  sourceFailed(sourceId: string, level: FillLevel, fileId: string, reason: FillFailure, at: number): void {
    this.failures[level]++;
    this.badSources.unshift({ sourceId, level, fileId, reason, at });
    if (this.badSources.length > MAX_BAD_SOURCES) this.badSources.length = MAX_BAD_SOURCES;
  }
}
