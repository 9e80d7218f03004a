// Which failed reads and writes are the drive's fault, and when a drive has failed: `limit`
// such errors on one store root within `windowMs`. One bad sector makes one file unreadable (the
// file is quarantined on its own); a run of them across files is a drive going, and Open Connect
// takes such a drive out of service rather than keep serving errors from it.

import type { DiskTier } from './types.ts';

/**
 * OS errors that come from the device or the filesystem on it, not from the caller or the file:
 * EIO (a block the device could not read or write), ENXIO/ENODEV (the device went away), EROFS
 * (the filesystem remounted itself read-only after errors), EUCLEAN (it found itself corrupt).
 * ENOSPC, ENOENT, a short file etc. are not the drive's fault.
 */
const DRIVE_ERROR_CODES = new Set(['EIO', 'ENXIO', 'ENODEV', 'EROFS', 'EUCLEAN']);

/** The errno code of an error or of the error it wraps (StoreError keeps the OS error as cause). */
export function errnoOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

export function isDriveError(code: string | undefined): boolean {
  return code !== undefined && DRIVE_ERROR_CODES.has(code);
}

/** A drive the store took out of service, as kept in the inventory and shown to operators. */
export interface FailedDrive {
  /** the store root's path */
  root: string;
  tier: DiskTier;
  /** when it was marked failed (ms since the epoch) */
  at: number;
  reason: string;
}

/** Drive errors per root within a sliding window. */
export class DriveErrorWindow {
  readonly limit: number;
  readonly windowMs: number;
  #seen = new Map<string, number[]>();

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Count one error on `root` at `now`; true once `limit` have been seen within the window. */
  note(root: string, now: number): boolean {
    const times = (this.#seen.get(root) ?? []).filter((t) => now - t < this.windowMs);
    times.push(now);
    this.#seen.set(root, times);
    return times.length >= this.limit;
  }

  /** errors on `root` within the window ending at `now` */
  count(root: string, now: number): number {
    return (this.#seen.get(root) ?? []).filter((t) => now - t < this.windowMs).length;
  }

  forget(root: string): void {
    this.#seen.delete(root);
  }
}
