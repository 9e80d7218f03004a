// Fill at a glance: the /v1/status section, the report section (ApplianceReport.fill) and the
// health reason, from the manifest and window, wanted / held / missing, what is downloading from
// where, and the totals by source level.

import { fillWindowState, type FillFile, type FillManifest, type FillReport, type FillWindowState } from '../../../protocol/index.ts';
import type { Store } from '../store/store.ts';
import { hashThreadTime } from '../store/stage-writer.ts';
import type { FileDownload } from './download.ts';
import type { BadSource } from './errors.ts';
import type { ByLevel, FillStats } from './fill-stats.ts';

export interface FillStatusInput {
  manifest: FillManifest | null;
  now: number;
  store: Store;
  wanted: ReadonlyMap<string, FillFile>;
  active: FileDownload[];
  stats: FillStats;
  blocked: FillReport['blocked'];
  rateBytesPerSec: number;
  /** files waiting for a peer or tier source that does not have them yet */
  deferred: number;
}

interface Count {
  files: number;
  bytes: number;
}

export interface FillStatus {
  manifestVersion: string | null;
  generatedAt: string | null;
  window: (FillWindowState & { timeZone: string; start: string; end: string }) | null;
  /** bits/s; 0 = unlimited; null before a manifest */
  rateLimitBps: number | null;
  wanted: Count;
  held: Count;
  missing: Count;
  /** missing files waiting for a peer or IX appliance that does not have them yet (it answered 404) */
  deferredFiles: number;
  blocked: FillReport['blocked'];
  active: Array<{
    fileId: string; bytes: number; written: number; source: { id: string; level: string } | null;
    root: string | null; urgent: boolean; startedAt: string;
  }>;
  bytesBySource: ByLevel;
  failedBytesBySource: ByLevel;
  failuresBySource: ByLevel;
  /** 404s from peer and tier sources that did not hold the file yet */
  notYetBySource: ByLevel;
  filesBySource: ByLevel;
  downloadsFailed: number;
  /**
   * seconds the tries of sources took, and of that waiting for the source or for the store (FillStats);
   * `hashThread`: the store's hash thread's time hashing (wall while busy, and its CPU) since start
   */
  pipeline: FillStats['pipeline'] & { hashThread: { busySeconds: number; cpuSeconds: number } };
  /** the most recent source failures, newest first */
  badSources: BadSource[];
}

export function fillStatus(i: FillStatusInput): FillStatus {
  const wanted: Count = { files: 0, bytes: 0 };
  const held: Count = { files: 0, bytes: 0 };
  for (const f of i.wanted.values()) {
    wanted.files++;
    wanted.bytes += f.bytes;
    if (i.store.has(f.fileId, f.sha256)) {
      held.files++;
      held.bytes += f.bytes;
    }
  }
  const m = i.manifest;
  return {
    manifestVersion: m?.version ?? null,
    generatedAt: m ? new Date(m.generatedAt).toISOString() : null,
    window: m ? { ...m.window, ...fillWindowState(m.window, i.now, m.fillNowUntil) } : null,
    rateLimitBps: m ? i.rateBytesPerSec * 8 : null,
    wanted,
    held,
    missing: { files: wanted.files - held.files, bytes: wanted.bytes - held.bytes },
    deferredFiles: i.deferred,
    blocked: i.blocked,
    active: i.active.map((d) => ({
      fileId: d.fileId, bytes: d.bytes, written: d.written, source: d.source, root: d.root, urgent: d.urgent,
      startedAt: new Date(d.startedAt).toISOString(),
    })),
    bytesBySource: { ...i.stats.bytes },
    failedBytesBySource: { ...i.stats.failedBytes },
    failuresBySource: { ...i.stats.failures },
    notYetBySource: { ...i.stats.notYet },
    filesBySource: { ...i.stats.files },
    downloadsFailed: i.stats.downloadsFailed,
    pipeline: { ...i.stats.pipeline, hashThread: hashThreadTime() },
    badSources: i.stats.badSources.slice(0, 10),
  };
}

/** The report section (ApplianceReport.fill). */
export function fillReport(i: FillStatusInput, manifestVersion: string | undefined): FillReport {
  const s = fillStatus(i);
  return {
    ...(manifestVersion !== undefined ? { manifestVersion } : {}),
    inWindow: s.window?.open ?? false,
    active: i.active.length > 0,
    wantedFiles: s.wanted.files,
    wantedBytes: s.wanted.bytes,
    heldBytes: s.held.bytes,
    bytesBySource: { ...i.stats.bytes },
    failuresBySource: { ...i.stats.failures },
    blocked: i.blocked,
    badSources: i.stats.badSources.map(({ sourceId, fileId, reason, at }) => ({ sourceId, fileId, reason, at })),
  };
}

/** The health reason for a blocked fill (the box is degraded: serving, but an operator should look). */
export function blockedReason(blocked: FillReport['blocked']): string | null {
  switch (blocked) {
    case 'no_space': return 'fill blocked: no room on disk for the files control wants here';
    case 'no_sources': return 'fill blocked: every source failed for the files still missing';
    case 'control_unreachable': return 'fill blocked: no fill manifest (control unreachable)';
    default: return null;
  }
}
