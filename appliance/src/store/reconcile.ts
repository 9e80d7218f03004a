// Start-up reconcile of inventory and disk, before anything is served:
// - temp files (interrupted writes) are removed, except staged puts' partial files
//   (`<fileId>.partial`), which a later stage() of the same file resumes;
// - orphans (on disk, never published in the inventory) are moved to `<root>/.quarantine/`;
// - inventory rows whose file is missing are marked quarantined ('missing');
// - files whose size differs from their row are moved to quarantine and the row marked;
// - a second copy left by a move interrupted after its rename (same fileId, other root) is
//   removed when the inventory's copy is intact, or adopted when it is not.
// Quarantined files are never in the snapshot the workers serve from.

import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileIdShard, isFileId } from '../../../protocol/index.ts';
import type { FileRow, Inventory } from './inventory.ts';
import { QUARANTINE_DIR, SHARD_RE, TMP_DIR, partialOf, quarantineDir, tmpDir } from './layout.ts';
import type { Root } from './roots.ts';

export interface ReconcileReport {
  tempsRemoved: number;
  /** partial files of staged puts kept for resuming */
  partialsKept: number;
  quarantined: Array<{ fileId: string; root: string; reason: string }>;
  duplicatesRemoved: number;
  adopted: number;
}

interface Found {
  root: Root;
  path: string;
  size: number;
}

export async function moveToQuarantine(root: Root, path: string, name: string, now: number): Promise<string> {
  const dir = quarantineDir(root.path);
  await mkdir(dir, { recursive: true });
  const target = join(dir, `${name}.${now}`);
  await rename(path, target);
  return target;
}

export async function reconcile(roots: Root[], inv: Inventory, now: number): Promise<ReconcileReport> {
  const report: ReconcileReport = { tempsRemoved: 0, partialsKept: 0, quarantined: [], duplicatesRemoved: 0, adopted: 0 };
  const rows = new Map<string, FileRow>(inv.all().map((r) => [r.fileId, r]));
  const seen = new Set<string>();
  const strays = new Map<string, Found[]>(); // fileId → copies on a root other than the row's

  const quarantineOrphan = async (root: Root, path: string, name: string, reason: string): Promise<void> => {
    const target = await moveToQuarantine(root, path, name, now);
    inv.addQuarantineRecord({ fileId: name, root: root.path, path: target, reason, at: now });
    report.quarantined.push({ fileId: name, root: root.path, reason });
  };

  for (const root of roots) {
    if (root.failed) continue; // its rows were quarantined when it failed; nothing there is trusted
    await mkdir(root.path, { recursive: true });
    const tmp = tmpDir(root.path);
    for (const t of await readdir(tmp, { withFileTypes: true }).catch(() => [])) {
      if (t.isFile() && partialOf(t.name) !== undefined) {
        report.partialsKept++;
        continue;
      }
      await rm(join(tmp, t.name), { recursive: true, force: true });
      report.tempsRemoved++;
    }

    for (const shard of await readdir(root.path, { withFileTypes: true })) {
      if (shard.name === TMP_DIR || shard.name === QUARANTINE_DIR) continue;
      if (!shard.isDirectory() || !SHARD_RE.test(shard.name)) continue; // not ours: left alone
      const shardPath = join(root.path, shard.name);
      for (const name of await readdir(shardPath)) {
        const path = join(shardPath, name);
        if (!isFileId(name) || fileIdShard(name) !== shard.name) {
          await quarantineOrphan(root, path, name, 'unexpected name in shard directory');
          continue;
        }
        const row = rows.get(name);
        const size = (await stat(path)).size;
        if (!row) {
          await quarantineOrphan(root, path, name, 'orphan: not in inventory');
        } else if (row.root !== root.path) {
          strays.set(name, [...(strays.get(name) ?? []), { root, path, size }]);
        } else if (row.state !== 'ok') {
          await quarantineOrphan(root, path, name, `inventory row is quarantined (${row.reason})`);
        } else if (size !== row.bytes) {
          await moveToQuarantine(root, path, name, now);
          const reason = `size mismatch: ${size} bytes on disk, ${row.bytes} in inventory`;
          inv.quarantine(name, reason);
          row.state = 'quarantined';
          report.quarantined.push({ fileId: name, root: root.path, reason });
        } else {
          seen.add(name);
        }
      }
    }
  }

  for (const [fileId, copies] of strays) {
    const row = rows.get(fileId)!;
    for (const copy of copies) {
      if (!seen.has(fileId) && row.state === 'ok' && copy.size === row.bytes) {
        inv.setPlace(fileId, copy.root.tier, copy.root.path);
        row.root = copy.root.path;
        seen.add(fileId);
        report.adopted++;
      } else if (seen.has(fileId)) {
        await rm(copy.path, { force: true });
        report.duplicatesRemoved++;
      } else {
        await quarantineOrphan(copy.root, copy.path, fileId, 'stray copy that does not match the inventory');
      }
    }
  }

  for (const row of rows.values()) {
    if (row.state === 'ok' && !seen.has(row.fileId)) {
      const known = roots.some((r) => r.path === row.root);
      const reason = known ? 'missing: file not on disk' : `missing: root ${row.root} is not configured`;
      inv.quarantine(row.fileId, reason);
      report.quarantined.push({ fileId: row.fileId, root: row.root, reason });
    }
  }
  return report;
}
