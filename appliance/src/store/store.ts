// The store's entry point (main thread). Opening it: resolve the roots (detecting 'auto' tiers), open the inventory, reconcile
// it with the disks, load what is published into memory, and start the rebalance timer.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from './clock.ts';
import { StoreError } from './errors.ts';
import { toEntry } from './file-table.ts';
import { Inventory } from './inventory.ts';
import { STORE_DEFAULTS, type StoreOptions, silentLogger } from './options.ts';
import { PinTable } from './pin-table.ts';
import { RamTier } from './ram-tier.ts';
import { reconcile } from './reconcile.ts';
import { resolveRoots } from './roots.ts';
import { DEFAULT_SCORE_SETTINGS } from './score.ts';
import { Store } from './store-facade.ts';
import { StoreState } from './store-state.ts';
import { WorkerHub } from './worker-hub.ts';
import { startHashThread } from './stage-writer.ts';

export { Store, type TickReport } from './store-facade.ts';
export type { PutMeta, StoredFile, StoreUsage, TierUsage } from './store-report.ts';
export type { StoreOptions } from './options.ts';
export type { StagedPut } from './staged-put.ts';

/** Bad settings stop the store before it touches a disk, with the setting's name. */
function checkOptions(o: StoreOptions): void {
  const bad = (setting: string, why: string): never => {
    throw new StoreError('BAD_INPUT', `store setting "${setting}": ${why}`);
  };
  if (!Array.isArray(o.roots) || o.roots.length === 0) bad('roots', 'at least one storage root is needed');
  o.roots.forEach((r, i) => {
    if (typeof r.path !== 'string' || r.path === '') bad(`roots.${i}.path`, 'must be a directory path');
    if (!['ssd', 'hdd', 'auto'].includes(r.type)) bad(`roots.${i}.type`, "must be 'ssd', 'hdd' or 'auto'");
    if (r.maxBytes !== undefined && !(r.maxBytes > 0)) bad(`roots.${i}.maxBytes`, 'must be a positive number of bytes');
  });
  const nonNegative = ['ramBytes', 'ramMaxFileBytes', 'ioBudgetBytes', 'reserveBytes', 'promoteMargin', 'ramThreshold', 'rankScale'] as const;
  for (const k of nonNegative) if (o[k] !== undefined && !(Number(o[k]) >= 0)) bad(k, 'must be a number ≥ 0');
  const positive = ['rebalanceIntervalMs', 'demandHalfLifeMs', 'demandScale', 'maxFiles', 'driveErrorLimit', 'driveErrorWindowMs'] as const;
  for (const k of positive) if (o[k] !== undefined && !(Number(o[k]) > 0)) bad(k, 'must be a number > 0');
  if (o.popularityWeight !== undefined && !(o.popularityWeight >= 0 && o.popularityWeight <= 1)) bad('popularityWeight', 'must be between 0 and 1');
}

export async function openStore(o: StoreOptions): Promise<Store> {
  const log = o.logger ?? silentLogger;
  const clock = o.clock ?? systemClock;
  const t = { ...STORE_DEFAULTS, ...DEFAULT_SCORE_SETTINGS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  checkOptions(o);
  startHashThread();
  await mkdir(o.stateDir, { recursive: true });
  const inv = new Inventory(join(o.stateDir, 'inventory.db'));
  let report;
  let roots;
  try {
    roots = await resolveRoots(o.roots, inv.failedDrives());
    for (const r of roots) {
      if (r.failed) log.error({ root: r.path, tier: r.tier, failedAt: new Date(r.failed.at).toISOString(), why: r.failed.reason }, 'store: root is a failed drive: not used');
      else log.info({ root: r.path, tier: r.tier, reason: r.reason }, 'store: root');
    }
    report = await reconcile(roots, inv, clock.now());
  } catch (err) {
    inv.close();
    throw err;
  }
  if (report.quarantined.length || report.tempsRemoved || report.partialsKept) log.warn({ ...report }, 'store: reconcile');
  const pins = new PinTable(t.maxFiles);
  let store: Store | undefined;
  const hub = new WorkerHub((m) => store?.noteDemand(m));
  const s = new StoreState(roots, inv, pins, hub, clock, log, t);
  s.ram = new RamTier(o.ramBytes, o.ramMaxFileBytes ?? o.ramBytes / 4, t.ramThreshold, t.promoteMargin, {
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
