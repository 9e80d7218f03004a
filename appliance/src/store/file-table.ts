// The store's in-memory view of its published files: inventory row + pin slot + the FileEntry
// workers get, with the score computed from the row at a given time.

import { FileKind } from '../../../protocol/index.ts';
import type { FileRow } from './inventory.ts';
import { filePath } from './layout.ts';
import { decayDemand, scoreOf, type ScoreSettings } from './score.ts';
import type { FileEntry } from './types.ts';

export interface Held {
  row: FileRow;
  slot: number;
  entry: FileEntry;
}

export function toEntry(row: FileRow, slot: number): FileEntry {
  return {
    fileId: row.fileId,
    bytes: row.bytes,
    sha256: row.sha256,
    kind: row.kind,
    mtimeMs: row.publishedAt,
    etag: `"${row.sha256.slice(0, 32)}"`,
    tier: row.tier,
    path: filePath(row.root, row.fileId),
    slot,
  };
}

export function demandNow(row: FileRow, now: number, s: ScoreSettings): number {
  return decayDemand(row.demand, row.demandAt, now, s.demandHalfLifeMs);
}

export function scoreRow(row: FileRow, now: number, s: ScoreSettings): number {
  return scoreOf(row.rank, demandNow(row, now, s), s);
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/** Validate put() metadata; returns a message for the first problem, or undefined. */
export function checkMeta(m: { bytes: unknown; sha256: unknown; kind: unknown }): string | undefined {
  if (!Number.isSafeInteger(m.bytes) || (m.bytes as number) < 0) return `bytes must be a non-negative integer, got ${String(m.bytes)}`;
  if (typeof m.sha256 !== 'string' || !SHA256_RE.test(m.sha256.toLowerCase())) return 'sha256 must be 64 hex digits';
  if (!FileKind.safeParse(m.kind).success) return `kind must be one of ${FileKind.options.join(', ')}`;
  return undefined;
}
