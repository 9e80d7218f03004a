// The store, as the daemon's main thread sees it. openStore() reconciles inventory and disk,
// loads what is published, and starts the rebalance timer; put() is the one publishing API;
// attachWorker() feeds a serving worker (see types.ts for the messages and store-view.ts for the
// worker side).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isFileId } from '../../../protocol/index.ts';
import type { FileKind } from '../../../protocol/index.ts';
import { type ByteSource, writeAtomic } from './atomic-write.ts';
import { systemClock } from './clock.ts';
import { StoreError } from './errors.ts';
import { checkMeta, demandNow, toEntry } from './file-table.ts';
import { Inventory, type FileRow, type QuarantineRecord } from './inventory.ts';
import { filePath, tmpDir } from './layout.ts';
import { STORE_DEFAULTS, type StoreOptions, silentLogger } from './options.ts';
import { PinTable } from './pin-table.ts';
import { RamTier } from './ram-tier.ts';
import { type ReconcileReport, reconcile } from './reconcile.ts';
import { pickRoot, resolveRoots, type Root } from './roots.ts';
import { DEFAULT_SCORE_SETTINGS, decayDemand, scoreOf } from './score.ts';
import { StoreState } from './store-state.ts';
import { type RebalanceReport, evictForRoom, ramPass, rebalance } from './tiering.ts';
import type { DiskTier, FileEntry, StoreToWorker, WorkerToStore } from './types.ts';
import { WorkerHub, type WorkerPortLike } from './worker-hub.ts';
import { type PutMeta, type StoredFile, type StoreUsage, type TierUsage, infoOf, usageOf } from './store-report.ts';

export type { PutMeta, StoredFile, TierUsage, StoreUsage };

export interface TickReport {
  rebalance: RebalanceReport;
  ramAdmitted: number;
}

export class Store {
  private readonly s: StoreState;
  private readonly writing = new Set<string>();
  /** ranks control sent for files not held yet, applied when they are put */
  private readonly pendingRanks = new Map<string, number | null>();
  private readonly dirtyDemand = new Set<string>();
  private stopTimer: () => void = () => {};
  private ticking: Promise<TickReport> | undefined;
  private closed = false;
  readonly reconcileReport: ReconcileReport;

  constructor(s: StoreState, report: ReconcileReport) {
    this.s = s;
    this.reconcileReport = report;
  }

  /** @internal start the rebalance timer (openStore does it) */
  start(): void {
    this.stopTimer = this.s.clock.every(this.s.t.rebalanceIntervalMs, () => this.tick().catch((err) => this.s.log.error({ err }, 'store: tick failed')));
  }

  get roots(): ReadonlyArray<Readonly<Root>> {
    return this.s.roots;
  }

  /** Publish a file: verified against bytes and sha256, atomically, or not at all. */
  async put(fileId: string, source: ByteSource, meta: PutMeta): Promise<StoredFile> {
    if (this.closed) throw new StoreError('CLOSED', 'store is closed');
    if (!isFileId(fileId)) throw new StoreError('BAD_FILE_ID', `invalid fileId ${JSON.stringify(fileId)}`);
    const bad = checkMeta(meta);
    if (bad) throw new StoreError('BAD_INPUT', `${fileId}: ${bad}`);
    if (this.writing.has(fileId)) throw new StoreError('BUSY', `${fileId} is already being written`);
    const sha256 = meta.sha256.toLowerCase();
    const old = this.s.files.get(fileId);
    if (old && old.row.sha256 === sha256 && old.row.bytes === meta.bytes) {
      (source as { destroy?: () => void }).destroy?.();
      return infoOf(this.s, old);
    }
    this.writing.add(fileId);
    try {
      const now = this.s.clock.now();
      const rank = meta.rank !== undefined ? meta.rank : (old?.row.rank ?? this.pendingRanks.get(fileId) ?? null);
      const demand = old ? demandNow(old.row, now, this.s.t) : 0;
      const root = await this.place(meta.bytes, scoreOf(rank, demand, this.s.t));
      root.used += meta.bytes;
      try {
        await writeAtomic({ tmpDir: tmpDir(root.path), finalPath: filePath(root.path, fileId), source, bytes: meta.bytes, sha256, onProgress: meta.onProgress });
      } catch (err) {
        root.used -= meta.bytes;
        throw err;
      }
      const row: FileRow = {
        fileId, bytes: meta.bytes, sha256, kind: meta.kind as FileKind, tier: root.tier, root: root.path,
        publishedAt: now, rank, demand, demandAt: now, state: 'ok', reason: null,
      };
      this.s.inv.upsert(row);
      this.pendingRanks.delete(fileId);
      const current = this.s.files.get(fileId); // re-read: a move may have finished meanwhile
      if (current) {
        const was = this.s.rootOf(current.row.root);
        if (was) was.used -= current.row.bytes;
        this.s.ram.drop(fileId);
        if (current.row.root !== root.path) this.s.bury(current.entry.path, current.slot);
      }
      return infoOf(this.s, this.s.publish(row, current?.slot ?? this.s.pins.alloc()));
    } finally {
      this.writing.delete(fileId);
    }
  }

  /**
   * A root for a new file: SSD while it has room, else HDD. When both are full, the slowest tier
   * evicts its lowest-scored unread files that score below the newcomer; if that cannot make room
   * the put fails with NO_SPACE and nothing is lost. A newcomer that outscores what is on SSD but
   * lands on HDD is promoted by the rebalance, within its IO budget.
   */
  private async place(bytes: number, score: number): Promise<Root> {
    const r = this.s.t.reserveBytes;
    const found = pickRoot(this.s.roots, 'ssd', bytes, r) ?? pickRoot(this.s.roots, 'hdd', bytes, r);
    if (found) return found;
    const tier: DiskTier = this.s.roots.some((x) => x.tier === 'hdd') ? 'hdd' : 'ssd';
    const made = await evictForRoom(this.s, tier, bytes, score, (id) => this.drop(id));
    if (made) return made;
    throw new StoreError('NO_SPACE', `no storage root has room for ${bytes} bytes (and nothing scoring lower can be evicted)`);
  }

  /** Stop serving a file and delete it (once no worker reads it). false if it was not held. */
  remove(fileId: string): boolean {
    return this.drop(fileId);
  }

  private drop(fileId: string): boolean {
    const h = this.s.files.get(fileId);
    if (!h) return false;
    this.s.files.delete(fileId);
    this.s.hub.broadcast({ type: 'store:remove', fileId });
    this.s.ram.drop(fileId);
    const root = this.s.rootOf(h.row.root);
    if (root) root.used -= h.row.bytes;
    this.s.bury(h.entry.path, h.slot);
    this.s.pins.release(h.slot);
    this.s.inv.delete(fileId);
    return true;
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
      } else if (isFileId(fileId)) this.pendingRanks.set(fileId, rank);
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
    this.stopTimer();
    await this.ticking?.catch(() => {});
    this.flushDemand();
    await this.s.sweepGraves(true);
    this.s.inv.close();
  }
}

export async function openStore(o: StoreOptions): Promise<Store> {
  const log = o.logger ?? silentLogger;
  const clock = o.clock ?? systemClock;
  const t = { ...STORE_DEFAULTS, ...DEFAULT_SCORE_SETTINGS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  if (o.roots.length === 0) throw new StoreError('BAD_INPUT', 'storage: at least one root is needed');
  const roots = await resolveRoots(o.roots);
  for (const r of roots) log.info({ root: r.path, tier: r.tier, reason: r.reason }, 'store: root');
  await mkdir(o.stateDir, { recursive: true });
  const inv = new Inventory(join(o.stateDir, 'inventory.db'));
  const report = await reconcile(roots, inv, clock.now());
  if (report.quarantined.length || report.tempsRemoved) log.warn({ ...report }, 'store: reconcile');
  const pins = new PinTable(t.maxFiles);
  let store: Store | undefined;
  const hub = new WorkerHub((m) => store?.noteDemand(m));
  const s = new StoreState(roots, inv, pins, hub, clock, log, t);
  s.ram = new RamTier(o.ramBytes, o.ramMaxFileBytes ?? o.ramBytes / 4, t.ramThreshold, {
    onAdd: (fileId, bytes) => hub.broadcast({ type: 'store:ram-add', fileId, bytes }),
    onDrop: (fileId) => hub.broadcast({ type: 'store:ram-drop', fileId }),
    scoreOf: (fileId) => { const h = s.files.get(fileId); return h ? s.score(h) : 0; },
    pinned: (fileId) => { const h = s.files.get(fileId); return h ? s.isPinned(h) : false; },
  });
  for (const row of inv.all()) {
    if (row.state !== 'ok') continue;
    const root = s.rootOf(row.root);
    if (root) root.used += row.bytes;
    const slot = pins.alloc();
    s.files.set(row.fileId, { row, slot, entry: toEntry(row, slot) });
  }
  store = new Store(s, report);
  store.start();
  return store;
}
