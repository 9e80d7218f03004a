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

export { Store, type TickReport } from './store-facade.ts';
export type { PutMeta, StoredFile, StoreUsage, TierUsage } from './store-report.ts';
export type { StoreOptions } from './options.ts';

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
