// What the rest of the daemon's main thread sees of fill: `daemon.fill` (null when the box has no
// control plane to fill from). The serving side uses it for misses: a viewer asks for a file the
// manifest says this box should hold but that is not on disk yet; `fetchNow` starts (or joins)
// the one download of that file, and the viewer is fed from the partial file as it grows.

import type { FillFile, FillLevel, FillManifest, FillReport } from '../../../protocol/index.ts';
import type { StoredFile } from '../store/store.ts';
import type { FillStatus } from './fill-status.ts';

/**
 * The one download of a file (there is never more than one per fileId at a time: a scheduled
 * fill and any number of misses share it).
 *
 * Bytes land in `path`, a partial file in the tmp dir of the store root the file will live on;
 * on success that same inode is renamed into the store, so a reader that opened `path` can keep
 * reading its descriptor after `done` resolves. `path` and `written` are meaningful from the
 * first 'progress' event (the partial is created, or found and re-hashed, asynchronously);
 * before that `path` is '' and `written` 0. `written` counts bytes on disk in the partial: a
 * reader may read [0, written). After 'reset' the partial was truncated to zero (a source served
 * bad bytes: everything written before was wrong) and `written` starts again from 0.
 */
export interface Download {
  readonly fileId: string;
  readonly bytes: number;
  readonly path: string;
  readonly written: number;
  /** the source being read now; null between attempts */
  readonly source: { id: string; level: FillLevel } | null;
  on(event: 'progress', cb: (written: number) => void): this;
  on(event: 'reset', cb: () => void): this;
  off(event: 'progress', cb: (written: number) => void): this;
  off(event: 'reset', cb: () => void): this;
  /** resolves with the published file; rejects (a FillError or StoreError) when the download
   *  failed or was stopped (the manifest dropped the file, the daemon drained) */
  readonly done: Promise<StoredFile>;
}

export interface FillHandle {
  /** the manifest being worked on (from control, or the last good one from disk); null before any */
  readonly manifest: FillManifest | null;
  /** the file's manifest entry if this appliance should hold it */
  wanted(fileId: string): FillFile | undefined;
  /**
   * Start or join THE download of a wanted file now, whatever the fill window says (it still
   * shares the fill rate limit). undefined when the file is not wanted. When the file is already
   * held, the returned Download has written === bytes and `done` already resolved.
   */
  fetchNow(fileId: string): Download | undefined;
  /** a new manifest was taken on; read `manifest` for the one already held when subscribing */
  on(event: 'manifest', cb: (m: FillManifest) => void): this;
  off(event: 'manifest', cb: (m: FillManifest) => void): this;

  // for the daemon
  /** ApplianceReport.fill */
  report(): FillReport;
  /** the `fill` section of /v1/status */
  status(): FillStatus;
  /** why fill is blocked, for the health reasons (degraded); null when it is not */
  healthReason(): string | null;
  /** control's current manifest version, from a report reply: fetched when it is not the one held */
  noteManifestVersion(version: string | undefined): void;
  /** pause scheduled fill (misses go on) while control is away; resume when it answers */
  setPaused(paused: boolean): void;
}
