// The store, as the daemon's main thread sees it (opened by openStore() in store.ts).
// put() and stage() are the publishing APIs (publisher.ts, staged-put.ts);
// attachWorker() feeds a serving worker (see types.ts for the messages and store-view.ts for the
// worker side).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { isFileId } from '../../../protocol/index.ts';
import type { ByteSource } from './atomic-write.ts';
import { StoreError } from './errors.ts';
import type { FailedDrive } from './drive-health.ts';
import type { FileRow, QuarantineRecord } from './inventory.ts';
import { partialPath } from './layout.ts';
import { type ReconcileReport, moveToQuarantine } from './reconcile.ts';
import type { Root } from './roots.ts';
import { decayDemand } from './score.ts';
import { StoreState } from './store-state.ts';
import { Publisher } from './publisher.ts';
import { listPartials, type StagedPut } from './staged-put.ts';
import { type RebalanceReport, ramPass, rebalance } from './tiering.ts';
import type { DiskTier, FileEntry, StoreToWorker, WorkerToStore } from './types.ts';
import type { WorkerPortLike } from './worker-hub.ts';
import { type PutMeta, type StoredFile, type StoreUsage, type TierUsage, infoOf, usageOf } from './store-report.ts';

export type { PutMeta, StoredFile, TierUsage, StoreUsage, StagedPut };

export interface TickReport {
  rebalance: RebalanceReport;
  ramAdmitted: number;
}

export class Store {
  private readonly s: StoreState;
  private readonly pub: Publisher;
  private readonly dirtyDemand = new Set<string>();
  private stopTimer: () => void = () => {};
  private ticking: Promise<TickReport> | undefined;
  private closed = false;
  readonly reconcileReport: ReconcileReport;

  constructor(s: StoreState, report: ReconcileReport) {
    this.s = s;
    this.reconcileReport = report;
    this.pub = new Publisher(s, {
      closed: () => this.closed,
      drop: (fileId) => this.drop(fileId),
      setRank: (fileId, rank) => this.setPopularity({ [fileId]: rank }),
    });
    s.failDrive = (root, reason) => this.failDrive(root.path, reason);
  }

  /** @internal start the rebalance timer (openStore does it) */
  start(): void {
    this.stopTimer = this.s.clock.every(this.s.t.rebalanceIntervalMs, () => this.tick().catch((err) => this.s.log.error({ err }, 'store: tick failed')));
  }

  get roots(): ReadonlyArray<Readonly<Root>> {
    return this.s.roots;
  }

  /** Publish a file: verified against bytes and sha256, atomically, or not at all (publisher.ts). */
  put(fileId: string, source: ByteSource, meta: PutMeta): Promise<StoredFile> {
    return this.pub.put(fileId, source, meta);
  }

  /**
   * Publish a file that arrives over time, with no copy: room is reserved now, the caller appends
   * to a partial file in the root's tmp dir and commit() verifies and renames it into place
   * (staged-put.ts). A partial left by an earlier attempt of the same file is resumed. The fileId
   * is BUSY until the staged put is committed or aborted.
   */
  stage(fileId: string, meta: PutMeta): Promise<StagedPut> {
    return this.pub.stage(fileId, meta);
  }

  /** The root a file of `bytes` would go to now without evicting anything (no reservation). */
  rootFor(bytes: number, tier?: DiskTier): Readonly<Root> | undefined {
    return this.pub.rootFor(bytes, tier);
  }

  /**
   * Make room for a file of `bytes` by evicting from `candidates`, in the order given, skipping
   * files being read (fill uses it for files its manifest no longer wants). Nothing is evicted
   * unless one root can then take the file. Returns the evicted fileIds.
   */
  makeRoom(bytes: number, candidates: readonly string[]): Promise<string[]> {
    return this.pub.makeRoom(bytes, candidates);
  }

  /**
   * Whether evicting every candidate, read or not, would give one root room for `bytes`: when
   * makeRoom fell short only because candidates are being read, the room comes back when the
   * reads end (fill waits instead of reporting a full disk).
   */
  roomOnceUnread(bytes: number, candidates: readonly string[]): boolean {
    return this.pub.roomOnceUnread(bytes, candidates);
  }

  /** Remove these files unless a worker is reading them (or they are being written or moved). */
  evictUnread(fileIds: readonly string[]): string[] {
    const out: string[] = [];
    for (const id of fileIds) {
      const h = this.s.files.get(id);
      if (!h || this.s.isPinned(h) || this.s.busy.has(id)) continue;
      this.drop(id);
      this.s.counters.diskEvicted++;
      out.push(id);
    }
    if (out.length) this.s.log.info({ fileIds: out }, 'store: evicted');
    return out;
  }

  /** Partial files of staged puts on disk that nothing is writing now. */
  partials(): Promise<Array<{ fileId: string; root: string; bytes: number }>> {
    return listPartials(this.s);
  }

  /** Delete a file's partials (fill: the manifest no longer wants it). false while it is staged. */
  async discardPartial(fileId: string): Promise<boolean> {
    if (this.s.busy.has(fileId)) return false;
    for (const r of this.s.roots) if (!r.failed) await unlink(partialPath(r.path, fileId)).catch(() => {});
    return true;
  }

  /** Take a file out of service everywhere (workers, RAM tier, root accounting); the caller
   *  decides what happens to the bytes on disk and to the inventory row. */
  private unpublish(fileId: string) {
    const h = this.s.files.get(fileId);
    if (!h) return undefined;
    this.s.files.delete(fileId);
    this.s.hub.broadcast({ type: 'store:remove', fileId });
    this.s.ram.drop(fileId);
    const root = this.s.rootOf(h.row.root);
    if (root) root.used -= h.row.bytes;
    return { h, root };
  }

  /** Stop serving a file and delete it (once no worker reads it). false if it was not held. */
  remove(fileId: string): boolean {
    return this.drop(fileId);
  }

  private drop(fileId: string): boolean {
    const held = this.unpublish(fileId);
    if (!held) return false;
    const { h } = held;
    this.s.bury(h.entry.path, h.slot);
    this.s.pins.release(h.slot);
    this.s.inv.delete(fileId);
    return true;
  }

  /**
   * Stop serving a file and keep it for the operator: the row is marked quarantined with the
   * reason and the file moved to `<root>/.quarantine/`. For the daemon when a read fails (EIO)
   * or a verify finds a bad hash. A later put() of the same fileId publishes it afresh.
   */
  async quarantine(fileId: string, reason: string): Promise<boolean> {
    const held = this.unpublish(fileId);
    if (!held) return false;
    const { h, root } = held;
    this.s.pins.release(h.slot);
    this.s.inv.quarantine(fileId, reason);
    this.s.counters.quarantined++;
    this.s.log.warn({ fileId, reason }, 'store: file quarantined');
    if (root) {
      await moveToQuarantine(root, h.entry.path, fileId, this.s.clock.now()).catch((err: unknown) => {
        // Still out of service (the row is quarantined); the bytes stay where they were, so say where.
        this.s.log.error({ fileId, path: h.entry.path, err: (err as Error).message }, 'store: quarantined file could not be moved to .quarantine; left in place');
      });
    }
    return true;
  }

  /** Re-hash a file on disk; a mismatch quarantines it. undefined if the file is not held. */
  async verify(fileId: string): Promise<boolean | undefined> {
    const h = this.s.files.get(fileId);
    if (!h) return undefined;
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(h.entry.path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (err) {
      this.s.noteIoError(h.row.root, err);
      if (this.s.files.get(fileId) !== h) return false; // its drive failed with this error
      await this.quarantine(fileId, `read failed on verify: ${(err as Error).message}`);
      return false;
    }
    if (hash.digest('hex') === h.row.sha256) return true;
    if (this.s.files.get(fileId) === h) await this.quarantine(fileId, 'sha256 mismatch on verify');
    return false;
  }

  /**
   * A serving worker could not read this file (`code`: the OS error's, e.g. EIO): counted against
   * its drive when it is the drive's fault. The file's root is looked up in the inventory too, so
   * errors still count after the file itself was quarantined.
   */
  noteReadError(fileId: string, code: string | undefined): void {
    const root = this.s.files.get(fileId)?.row.root ?? this.s.inv.get(fileId)?.root;
    if (root !== undefined) this.s.noteIoError(root, { code });
  }

  /**
   * Take a drive out of service: nothing is read from or written to it again, its files leave the
   * inventory (quarantined, reason "drive failed") so control stops steering to them and fill
   * fetches them elsewhere, and its capacity is no longer counted. Kept across restarts (the
   * inventory's failed_drives table); an operator who replaced the drive deletes that row.
   */
  failDrive(rootPath: string, reason: string): boolean {
    const root = this.s.rootOf(rootPath);
    if (!root || root.failed) return false;
    const at = this.s.clock.now();
    root.failed = { at, reason };
    const lost: string[] = [];
    for (const h of [...this.s.files.values()]) {
      if (h.row.root !== root.path || !this.unpublish(h.row.fileId)) continue;
      this.s.pins.release(h.slot);
      lost.push(h.row.fileId);
    }
    root.used = 0;
    this.s.forgetGraves(root.path);
    this.s.inv.markDriveFailed({ root: root.path, tier: root.tier, at, reason });
    this.s.counters.quarantined += lost.length;
    this.s.log.error({ root: root.path, tier: root.tier, reason, files: lost.length }, 'store: drive failed: taken out of service');
    return true;
  }

  /** Drives taken out of service (now or before a restart). */
  failedDrives(): FailedDrive[] {
    return this.s.roots.flatMap((r) => (r.failed ? [{ root: r.path, tier: r.tier, ...r.failed }] : []));
  }

  /** Control's popularity ranks (0 = most popular; null clears). Unknown files keep theirs for put(). */
  setPopularity(ranks: Record<string, number | null>): void {
    const known: Array<{ fileId: string; rank: number | null }> = [];
    for (const [fileId, rank] of Object.entries(ranks)) {
      if (rank !== null && !(Number.isFinite(rank) && rank >= 0)) throw new StoreError('BAD_INPUT', `rank of ${fileId} must be a number ≥ 0 or null`);
      const h = this.s.files.get(fileId);
      if (h) {
        h.row.rank = rank;
        known.push({ fileId, rank });
      } else if (isFileId(fileId)) {
        if (rank === null) this.s.pendingRanks.delete(fileId);
        else this.s.pendingRanks.set(fileId, rank);
      }
    }
    this.s.inv.setRanks(known);
  }

  /** Demand observed by workers (attachWorker routes their batches here). */
  noteDemand(m: Pick<WorkerToStore, 'served' | 'hits'>): void {
    const now = this.s.clock.now();
    for (const [fileId, bytes] of Object.entries(m.served)) {
      const h = this.s.files.get(fileId);
      if (!h || !(bytes >= 0)) continue;
      const views = h.row.bytes > 0 ? bytes / h.row.bytes : (m.hits[fileId] ?? 0);
      h.row.demand = decayDemand(h.row.demand, h.row.demandAt, now, this.s.t.demandHalfLifeMs) + views;
      h.row.demandAt = now;
      this.dirtyDemand.add(fileId);
    }
  }

  /**
   * Feed a serving worker: its own pin table, the snapshot, the RAM tier, then every change.
   * Returns detach(), also run on the worker's 'exit' (a restarted worker is attached afresh).
   */
  attachWorker(port: WorkerPortLike): () => void {
    const pins = this.s.pins.addTable();
    const initial: StoreToWorker[] = [
      { type: 'store:pins', pins },
      { type: 'store:snapshot', files: this.snapshot() },
      ...this.s.ram.entries().map(([fileId, bytes]): StoreToWorker => ({ type: 'store:ram-add', fileId, bytes })),
    ];
    return this.s.hub.attach(port, initial, () => this.s.pins.removeTable(pins));
  }

  snapshot(): FileEntry[] {
    return [...this.s.files.values()].map((h) => h.entry);
  }

  list(): StoredFile[] {
    const now = this.s.clock.now();
    return [...this.s.files.values()].map((h) => infoOf(this.s, h, now)).sort((a, b) => (a.fileId < b.fileId ? -1 : 1));
  }

  /** Is the file published (with this content, when sha256 is given)? Cheap: no listing built. */
  has(fileId: string, sha256?: string): boolean {
    const h = this.s.files.get(fileId);
    return h !== undefined && (sha256 === undefined || h.row.sha256 === sha256.toLowerCase());
  }

  get(fileId: string): StoredFile | undefined {
    const h = this.s.files.get(fileId);
    return h && infoOf(this.s, h);
  }

  /** Files the store will not serve: quarantined rows and quarantined orphans. */
  quarantined(): { files: FileRow[]; orphans: QuarantineRecord[] } {
    return { files: this.s.inv.all().filter((r) => r.state !== 'ok'), orphans: this.s.inv.quarantineRecords() };
  }

  usage(): StoreUsage {
    return usageOf(this.s);
  }

  /** One round of background work: persist demand, retire old copies, rebalance, RAM admission. */
  tick(): Promise<TickReport> {
    this.ticking ??= this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<TickReport> {
    this.flushDemand();
    await this.s.sweepGraves();
    const report = await rebalance(this.s);
    const ramAdmitted = await ramPass(this.s);
    if (report.moves.length || ramAdmitted) this.s.log.info({ moves: report.moves, ramAdmitted }, 'store: rebalanced');
    return { rebalance: report, ramAdmitted };
  }

  private flushDemand(): void {
    const rows = [...this.dirtyDemand].flatMap((id) => {
      const h = this.s.files.get(id);
      return h ? [{ fileId: id, demand: h.row.demand, demandAt: h.row.demandAt }] : [];
    });
    this.dirtyDemand.clear();
    this.s.inv.setDemand(rows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.s.closing = true;
    this.stopTimer();
    await this.ticking?.catch(() => {});
    this.flushDemand();
    await this.s.sweepGraves(true);
    this.s.inv.close();
  }
}
