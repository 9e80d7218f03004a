// How bytes become published files (the store facade delegates here): put() writes a whole
// source through the verified atomic write; stage() hands out a partial file to append to and
// publishes it on commit (staged-put.ts). Both reserve room the same way (place()) and end the
// same way (record()): one inventory row, the workers told, an old copy retired once unread.

import type { FileKind } from '../../../protocol/index.ts';
import { isFileId } from '../../../protocol/index.ts';
import { type ByteSource, writeAtomic } from './atomic-write.ts';
import { StoreError } from './errors.ts';
import { checkMeta, demandNow } from './file-table.ts';
import type { FileRow } from './inventory.ts';
import { filePath, tmpDir } from './layout.ts';
import { pickRoot, roomOf, type Root } from './roots.ts';
import { scoreOf } from './score.ts';
import { stageFile, type StageHost, type StagedPut } from './staged-put.ts';
import type { StoreState } from './store-state.ts';
import { infoOf, type PutMeta, type StoredFile } from './store-report.ts';
import { evictForRoom, evictFromRoots } from './tiering.ts';
import type { DiskTier } from './types.ts';

export interface PublisherHooks {
  closed(): boolean;
  /** evict a file (the facade's remove) */
  drop(fileId: string): boolean;
  setRank(fileId: string, rank: number | null): void;
}

export class Publisher {
  private readonly s: StoreState;
  private readonly hooks: PublisherHooks;
  private readonly stageHost: StageHost;

  constructor(s: StoreState, hooks: PublisherHooks) {
    this.s = s;
    this.hooks = hooks;
    this.stageHost = {
      s,
      place: (fileId, meta) => this.place(fileId, meta),
      record: (fileId, root, meta) => this.record(fileId, root, meta),
      alreadyHeld: (fileId, meta) => this.alreadyHeld(fileId, meta),
      countError: (code) => this.countError(code),
    };
  }

  async put(fileId: string, source: ByteSource, meta: PutMeta): Promise<StoredFile> {
    this.check(fileId, meta);
    const held = this.alreadyHeld(fileId, meta);
    if (held) {
      (source as { destroy?: () => void }).destroy?.();
      return held;
    }
    this.s.busy.add(fileId);
    try {
      const root = await this.place(fileId, meta); // reserves the bytes
      try {
        await writeAtomic({ tmpDir: tmpDir(root.path), finalPath: filePath(root.path, fileId), source, bytes: meta.bytes, sha256: meta.sha256, onProgress: meta.onProgress });
      } catch (err) {
        root.used -= meta.bytes;
        this.s.noteIoError(root.path, err);
        throw err;
      }
      return this.record(fileId, root, meta);
    } catch (err) {
      this.countError((err as StoreError).code ?? 'IO');
      throw err;
    } finally {
      this.s.busy.delete(fileId);
    }
  }

  async stage(fileId: string, meta: PutMeta): Promise<StagedPut> {
    this.check(fileId, meta);
    this.s.busy.add(fileId);
    try {
      return await stageFile(this.stageHost, fileId, meta);
    } catch (err) {
      this.s.busy.delete(fileId);
      this.countError((err as StoreError).code ?? 'IO');
      throw err;
    }
  }

  private check(fileId: string, meta: PutMeta): void {
    if (this.hooks.closed()) throw new StoreError('CLOSED', 'store is closed');
    if (!isFileId(fileId)) throw new StoreError('BAD_FILE_ID', `invalid fileId ${JSON.stringify(fileId)}`);
    const bad = checkMeta(meta);
    if (bad) throw new StoreError('BAD_INPUT', `${fileId}: ${bad}`);
    if (this.s.busy.has(fileId)) throw new StoreError('BUSY', `${fileId} is being written or moved; retry`);
  }

  private countError(code: string): void {
    this.s.counters.putErrors[code] = (this.s.counters.putErrors[code] ?? 0) + 1;
  }

  /** The same content is already published: apply the rank, and there is nothing to write. */
  private alreadyHeld(fileId: string, meta: PutMeta): StoredFile | undefined {
    const old = this.s.files.get(fileId);
    if (!old || old.row.sha256 !== meta.sha256.toLowerCase() || old.row.bytes !== meta.bytes) return undefined;
    if (meta.rank !== undefined) this.hooks.setRank(fileId, meta.rank);
    return infoOf(this.s, old);
  }

  /** The rank a new copy gets: the one given, else the old copy's, else control's pending one. */
  private rankFor(fileId: string, meta: PutMeta): number | null {
    return meta.rank !== undefined ? meta.rank : (this.s.files.get(fileId)?.row.rank ?? this.s.pendingRanks.get(fileId) ?? null);
  }

  /** After the rename: the inventory row, the workers told, the old copy (if any) retired. */
  private record(fileId: string, root: Root, meta: PutMeta): StoredFile {
    // the drive failed while the bytes were written: they are not trusted either
    if (root.failed) throw new StoreError('IO', `${fileId}: drive ${root.path} failed while it was written`);
    const now = this.s.clock.now();
    const old = this.s.files.get(fileId);
    const row: FileRow = {
      fileId, bytes: meta.bytes, sha256: meta.sha256.toLowerCase(), kind: meta.kind as FileKind, tier: root.tier, root: root.path,
      publishedAt: now, rank: this.rankFor(fileId, meta), demand: old ? demandNow(old.row, now, this.s.t) : 0, demandAt: now,
      state: 'ok', reason: null,
    };
    this.s.inv.upsert(row);
    this.s.pendingRanks.delete(fileId);
    if (old) {
      const was = this.s.rootOf(old.row.root);
      if (was) was.used -= old.row.bytes;
      this.s.ram.drop(fileId);
      if (old.row.root !== root.path) this.s.bury(old.entry.path, old.slot);
    }
    this.s.counters.puts++;
    return infoOf(this.s, this.s.publish(row, old?.slot ?? this.s.pins.alloc()));
  }

  /**
   * A root for a new file: the preferred tier (meta.tier, default SSD) while it has room, else the
   * other. When both are full, the slowest tier evicts its lowest-scored unread files that score
   * below the newcomer; if that cannot make room the put fails with NO_SPACE and nothing is lost.
   * A newcomer that outscores what is on SSD but lands on HDD is promoted by the rebalance, within
   * its IO budget.
   */
  private async place(fileId: string, meta: PutMeta): Promise<Root> {
    const bytes = meta.bytes;
    // reserve in the same synchronous step as the pick, so concurrent puts never share the room
    const found = this.rootFor(bytes, meta.tier);
    if (found) {
      found.used += bytes;
      return found;
    }
    const old = this.s.files.get(fileId);
    const score = scoreOf(this.rankFor(fileId, meta), old ? demandNow(old.row, this.s.clock.now(), this.s.t) : 0, this.s.t);
    const tier: DiskTier = this.s.roots.some((x) => x.tier === 'hdd') ? 'hdd' : 'ssd';
    const made = await evictForRoom(this.s, tier, bytes, score, (id) => this.hooks.drop(id));
    if (made) {
      made.used += bytes;
      return made;
    }
    throw new StoreError('NO_SPACE', `no storage root has room for ${bytes} bytes (and nothing scoring lower can be evicted)`);
  }

  rootFor(bytes: number, tier: DiskTier = 'ssd'): Root | undefined {
    const r = this.s.t.reserveBytes;
    const other: DiskTier = tier === 'ssd' ? 'hdd' : 'ssd';
    return pickRoot(this.s.roots, tier, bytes, r) ?? pickRoot(this.s.roots, other, bytes, r);
  }

  async makeRoom(bytes: number, candidates: readonly string[]): Promise<string[]> {
    if (this.rootFor(bytes)) return [];
    const order = candidates.flatMap((id) => this.s.files.get(id) ?? []);
    const evicted: string[] = [];
    const evict = (id: string): boolean => {
      evicted.push(id);
      return this.hooks.drop(id);
    };
    await evictFromRoots(this.s, this.s.roots, bytes, evict, (root) => order.filter((h) => h.row.root === root.path));
    return evicted;
  }

  /** Whether evicting every candidate, read or not, would give one root room for `bytes`. */
  roomOnceUnread(bytes: number, candidates: readonly string[]): boolean {
    const freed = new Map<string, number>();
    for (const id of candidates) {
      const h = this.s.files.get(id);
      if (h) freed.set(h.row.root, (freed.get(h.row.root) ?? 0) + h.row.bytes);
    }
    return this.s.roots.some((r) => !r.failed && roomOf(r, this.s.t.reserveBytes) + (freed.get(r.path) ?? 0) >= bytes);
  }
}
