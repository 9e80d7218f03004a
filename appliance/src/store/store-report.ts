// What the store tells the rest of the daemon: put() metadata, file listings (admin API) and
// per-tier usage (health and metrics).

import type { FileKind } from '../../../protocol/index.ts';
import type { FileRow } from './inventory.ts';
import type { Held } from './file-table.ts';
import { demandNow } from './file-table.ts';
import { fsFree } from './roots.ts';
import type { StoreCounters, StoreState } from './store-state.ts';
import type { DiskTier } from './types.ts';

export interface PutMeta {
  bytes: number;
  sha256: string;
  kind: FileKind;
  /** control's popularity rank, if known (0 = most popular) */
  rank?: number | null;
  /** the tier to put it on while that tier has room (default SSD; the other tier otherwise) */
  tier?: DiskTier;
  /** called as bytes reach the temp file */
  onProgress?: (written: number) => void;
}

/** A held file as the admin API lists it: its inventory row, where it is, and how it scores now. */
export interface StoredFile extends Pick<FileRow, 'fileId' | 'bytes' | 'sha256' | 'kind' | 'tier' | 'root' | 'publishedAt' | 'rank'> {
  path: string;
  /** decayed whole-file reads, now */
  demand: number;
  score: number;
  inRam: boolean;
}

export interface TierUsage {
  files: number;
  bytes: number;
  /** bytes the tier can hold: Σ min(maxBytes, filesystem size) */
  capacity: number;
  /** Σ free bytes on its filesystems */
  free: number;
  /** a failed drive's root is listed (with why) but counts for nothing */
  roots: Array<{ path: string; files: number; bytes: number; maxBytes: number | null; free: number; size: number; failed: string | null }>;
}

export interface StoreUsage {
  ram: { budget: number; bytes: number; files: number; threshold: number };
  ssd: TierUsage;
  hdd: TierUsage;
  quarantined: number;
  /** since the store opened */
  counters: StoreCounters;
}

export function infoOf(s: StoreState, h: Held, now = s.clock.now()): StoredFile {
  const r = h.row;
  return {
    fileId: r.fileId, bytes: r.bytes, sha256: r.sha256, kind: r.kind, tier: r.tier, root: r.root,
    path: h.entry.path, publishedAt: r.publishedAt, rank: r.rank, demand: demandNow(r, now, s.t),
    score: s.score(h, now), inRam: s.ram.has(r.fileId),
  };
}

export function usageOf(s: StoreState): StoreUsage {
  const tier = (t: DiskTier): TierUsage => {
    const u: TierUsage = { files: 0, bytes: 0, capacity: 0, free: 0, roots: [] };
    for (const root of s.roots.filter((r) => r.tier === t)) {
      let files = 0;
      let bytes = 0;
      for (const h of s.files.values()) {
        if (h.row.root === root.path) {
          files++;
          bytes += h.row.bytes;
        }
      }
      let disk = { free: 0, size: 0 };
      if (!root.failed) {
        try {
          disk = fsFree(root.path);
        } catch {
          // an unreadable root shows as empty; health reports it
        }
      }
      const maxBytes = Number.isFinite(root.maxBytes) ? root.maxBytes : null;
      u.roots.push({ path: root.path, files, bytes, maxBytes, free: disk.free, size: disk.size, failed: root.failed?.reason ?? null });
      u.files += files;
      u.bytes += bytes;
      u.capacity += Math.min(root.maxBytes, disk.size);
      u.free += disk.free;
    }
    return u;
  };
  const quarantined = s.inv.quarantineCount();
  return {
    ram: { budget: s.ram.budget, bytes: s.ram.used, files: s.ram.count, threshold: s.ram.threshold },
    ssd: tier('ssd'),
    hdd: tier('hdd'),
    quarantined,
    counters: { ...s.counters, putErrors: { ...s.counters.putErrors } },
  };
}
