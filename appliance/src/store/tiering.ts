// Moving files between tiers: RAM admission by score, and SSD ↔ HDD rebalance within the IO
// budget. Disk moves copy through the same atomic write as put() (checked against the stored
// size and sha256), then switch the inventory row, then retire the old copy once unread.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { writeAtomic } from './atomic-write.ts';
import type { Held } from './file-table.ts';
import { filePath, tmpDir } from './layout.ts';
import { type Move, planRebalance } from './rebalance-plan.ts';
import { pickRoot, roomOf, type Root } from './roots.ts';
import type { StoreState } from './store-state.ts';
import type { DiskTier } from './types.ts';

export interface RebalanceReport {
  moves: Array<Move & { ok: boolean }>;
  bytesCopied: number;
}

async function readWhole(path: string, bytes: number): Promise<SharedArrayBuffer> {
  const sab = new SharedArrayBuffer(bytes);
  const view = new Uint8Array(sab);
  const fh = await open(path, 'r');
  try {
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await fh.read(view, off, bytes - off, off);
      if (bytesRead === 0) throw new Error(`${path} is shorter than ${bytes} bytes`);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return sab;
}

/** Admit the best-scored files not yet in RAM, making room from lower-scored, unread ones. */
export async function ramPass(s: StoreState): Promise<number> {
  const now = s.clock.now();
  const candidates = [...s.files.values()]
    .filter((h) => !s.ram.has(h.row.fileId))
    .map((h) => ({ h, score: s.score(h, now) }))
    .filter((c) => s.ram.eligible(c.h.row.bytes, c.score))
    .sort((a, b) => b.score - a.score);
  let admitted = 0;
  for (const { h, score } of candidates) {
    if (s.closing) break;
    if (!s.ram.planRoom(h.row.bytes, score)) continue;
    let sab: SharedArrayBuffer;
    try {
      sab = await readWhole(h.entry.path, h.row.bytes);
    } catch (err) {
      s.log.warn({ err, fileId: h.row.fileId }, 'store: could not load file into RAM');
      s.noteIoError(h.row.root, err);
      continue;
    }
    // The file may have been replaced, removed or moved while it loaded: only admit what still
    // is the same published content, with room planned afresh.
    const still = s.files.get(h.row.fileId);
    if (!still || still.row.sha256 !== h.row.sha256 || s.ram.has(h.row.fileId)) continue;
    const victims = s.ram.planRoom(h.row.bytes, s.score(still));
    if (!victims) continue;
    s.ram.add(h.row.fileId, sab, victims);
    s.counters.ramAdmitted++;
    s.counters.ramEvicted += victims.length;
    admitted++;
  }
  return admitted;
}

/** Copy a file to a root of another tier; false if it could not (logged), nothing lost. */
export async function moveFile(s: StoreState, h: Held, to: DiskTier): Promise<boolean> {
  if (s.isPinned(h) || h.row.tier === to || s.busy.has(h.row.fileId)) return false;
  const target = pickRoot(s.roots, to, h.row.bytes, s.t.reserveBytes);
  if (!target) return false;
  const from = s.rootOf(h.row.root);
  const oldPath = h.entry.path;
  target.used += h.row.bytes;
  s.busy.add(h.row.fileId);
  try {
    return await copyAndSwitch(s, h, to, target, from, oldPath);
  } finally {
    s.busy.delete(h.row.fileId);
  }
}

async function copyAndSwitch(s: StoreState, h: Held, to: DiskTier, target: Root, from: Root | undefined, oldPath: string): Promise<boolean> {
  try {
    await writeAtomic({
      tmpDir: tmpDir(target.path),
      finalPath: filePath(target.path, h.row.fileId),
      source: createReadStream(oldPath, { highWaterMark: 1 << 20 }),
      bytes: h.row.bytes,
      sha256: h.row.sha256,
    });
  } catch (err) {
    target.used -= h.row.bytes;
    s.log.warn({ err, fileId: h.row.fileId, to }, 'store: move failed; file stays where it was');
    return false;
  }
  if (s.files.get(h.row.fileId) !== h) {
    // removed while copying (put() cannot replace it: the file is busy): drop the copy
    target.used -= h.row.bytes;
    s.bury(filePath(target.path, h.row.fileId), h.slot);
    return false;
  }
  s.inv.setPlace(h.row.fileId, to, target.path);
  if (from) from.used -= h.row.bytes;
  s.publish({ ...h.row, tier: to, root: target.path }, h.slot);
  s.bury(oldPath, h.slot);
  if (to === 'ssd') s.counters.promoted++;
  else s.counters.demoted++;
  s.counters.bytesMoved += h.row.bytes;
  return true;
}

export async function rebalance(s: StoreState): Promise<RebalanceReport> {
  const now = s.clock.now();
  const room = { ssd: 0, hdd: 0 };
  for (const r of s.roots) room[r.tier] += roomOf(r, s.t.reserveBytes);
  const files = [...s.files.values()].map((h) => ({
    fileId: h.row.fileId,
    bytes: h.row.bytes,
    tier: h.row.tier,
    score: s.score(h, now),
    pinned: s.isPinned(h),
  }));
  const moves = planRebalance({ files, room, budgetBytes: s.t.ioBudgetBytes, margin: s.t.promoteMargin });
  const report: RebalanceReport = { moves: [], bytesCopied: 0 };
  const failed = new Set<string>();
  for (const m of moves) {
    if (s.closing) break;
    const h = s.files.get(m.fileId);
    // a promotion whose demotions failed would find no room: skip it rather than overfill
    const ok = h !== undefined && !(m.to === 'ssd' && failed.size > 0) && (await moveFile(s, h, m.to));
    if (!ok) failed.add(m.fileId);
    if (ok) report.bytesCopied += m.bytes;
    report.moves.push({ ...m, ok });
  }
  return report;
}

/**
 * Make room on a full tier for a newcomer scoring `score`: evict that tier's lowest-scored files
 * that score below it and are not being read, until one root can take `bytes`. Nothing is
 * evicted unless the whole room can be made.
 */
export function evictForRoom(
  s: StoreState,
  tier: DiskTier,
  bytes: number,
  score: number,
  evict: (fileId: string) => boolean,
): Promise<Root | undefined> {
  const now = s.clock.now();
  return evictFromRoots(s, s.roots.filter((r) => r.tier === tier), bytes, evict, (root) =>
    [...s.files.values()]
      .filter((h) => h.row.root === root.path)
      .map((h) => ({ h, score: s.score(h, now) }))
      .filter((v) => v.score < score)
      .sort((a, b) => a.score - b.score)
      .map((v) => v.h));
}

/**
 * Evict `victims(root)` in the order given, skipping files being read, until the root can take
 * `bytes`; the first root where that works is returned (its old copies swept). Nothing is
 * evicted unless the whole room can be made on one root.
 */
export async function evictFromRoots(
  s: StoreState,
  roots: Root[],
  bytes: number,
  evict: (fileId: string) => boolean,
  victims: (root: Root) => Held[],
): Promise<Root | undefined> {
  for (const root of roots) {
    let room = roomOf(root, s.t.reserveBytes);
    const chosen: Held[] = [];
    for (const h of victims(root)) {
      if (room >= bytes) break;
      if (h.row.root !== root.path || s.isPinned(h)) continue;
      chosen.push(h);
      room += h.row.bytes;
    }
    if (room < bytes) continue;
    for (const h of chosen) {
      evict(h.row.fileId);
      s.counters.diskEvicted++;
      s.log.info({ fileId: h.row.fileId, root: root.path }, 'store: evicted to make room');
    }
    await s.sweepGraves();
    return root;
  }
  return undefined;
}
