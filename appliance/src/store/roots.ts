// The disk roots of the store and how much more each can take. A root's room is the smaller of
// its configured cap (maxBytes − bytes the inventory holds there) and the filesystem's free space
// minus a reserve, so a shared filesystem filling up from elsewhere is noticed before a write fails.

import { statfsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DiskTier } from './types.ts';
import { detectDiskType } from './disk-type.ts';
import type { FailedDrive } from './drive-health.ts';

export interface RootConfig {
  path: string;
  type: DiskTier | 'auto';
  maxBytes?: number;
}

export interface Root {
  path: string;
  tier: DiskTier;
  maxBytes: number;
  /** bytes of published files (and writes in flight) the store holds here */
  used: number;
  /** how the tier was chosen (for logs) */
  reason: string;
  /** set once the drive is taken out of service (drive-health.ts): nothing is read or written here */
  failed: { at: number; reason: string } | null;
}

/** The configured roots; those in `failed` are not touched (a dead drive must not stop the start). */
export async function resolveRoots(configs: RootConfig[], failed: readonly FailedDrive[] = []): Promise<Root[]> {
  const roots: Root[] = [];
  for (const c of configs) {
    const path = resolve(c.path);
    if (roots.some((r) => r.path === path)) throw new Error(`storage root ${path} listed twice`);
    const dead = failed.find((f) => f.root === path);
    if (dead) {
      roots.push({ path, tier: dead.tier, maxBytes: c.maxBytes ?? Number.POSITIVE_INFINITY, used: 0, reason: 'failed drive', failed: { at: dead.at, reason: dead.reason } });
      continue;
    }
    await mkdir(path, { recursive: true });
    let tier: DiskTier;
    let reason: string;
    if (c.type === 'auto') {
      const d = await detectDiskType(path);
      tier = d.type;
      reason = `auto: ${d.reason}`;
    } else {
      tier = c.type;
      reason = 'configured';
    }
    roots.push({ path, tier, maxBytes: c.maxBytes ?? Number.POSITIVE_INFINITY, used: 0, reason, failed: null });
  }
  return roots;
}

export function fsFree(path: string): { free: number; size: number } {
  const s = statfsSync(path);
  return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
}

/** Bytes this root can still take. */
export function roomOf(root: Root, reserveBytes: number): number {
  if (root.failed) return 0;
  const byCap = root.maxBytes - root.used;
  const byDisk = fsFree(root.path).free - reserveBytes;
  return Math.max(0, Math.min(byCap, byDisk));
}

/** The root of a tier with the most room, if any can take `bytes`. */
export function pickRoot(roots: Root[], tier: DiskTier, bytes: number, reserveBytes: number): Root | undefined {
  let best: Root | undefined;
  let bestRoom = -1;
  for (const r of roots) {
    if (r.tier !== tier || r.failed) continue;
    const room = roomOf(r, reserveBytes);
    if (room >= bytes && room > bestRoom) {
      best = r;
      bestRoom = room;
    }
  }
  return best;
}
