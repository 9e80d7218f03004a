// Eviction by score never takes a file being read (pin table), and the background rebalance
// promotes/demotes between SSD and HDD within its IO budget, through the verified atomic copy.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { filePath } from '../../src/store/layout.ts';
import type { Store } from '../../src/store/store.ts';
import { WorkerStoreView } from '../../src/store/store-view.ts';
import { content, type Dirs, KiB, makeDirs, ManualClock, open, putFile, read, removeDirs } from './helpers.ts';

let d: Dirs;
let store: Store | undefined;
beforeEach(async () => {
  d = await makeDirs();
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await removeDirs(d);
});

const SIZE = 32 * KiB;

/** A StoreView fed in-thread, to pin files exactly as a serving worker does. */
function viewOf(s: Store): WorkerStoreView & { detach: () => void } {
  const view = new WorkerStoreView();
  const detach = s.attachWorker({ postMessage: (m) => view.handle(m), on: () => {}, off: () => {} });
  return Object.assign(view, { detach });
}

it('a full RAM tier evicts its lowest-scored file that is not being read', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, { ramBytes: 2 * SIZE, ramMaxFileBytes: SIZE });
  for (const id of ['t1.low', 't1.mid', 't1.new']) await putFile(store, id, SIZE);
  read(store, 't1.low', 2);
  read(store, 't1.mid', 4);
  await clock.advance(1000);
  expect(store.get('t1.low')!.inRam && store.get('t1.mid')!.inRam).toBe(true);

  const view = viewOf(store);
  expect(view.ram('t1.low')).toBeDefined();
  const release = view.pin(view.get('t1.low')!); // a worker is sending t1.low right now
  read(store, 't1.new', 8);
  await clock.advance(1000);
  expect(store.get('t1.new')!.inRam).toBe(true);
  expect(store.get('t1.low')!.inRam).toBe(true); // pinned: kept although it scores lowest
  expect(store.get('t1.mid')!.inRam).toBe(false);
  expect(view.ram('t1.mid')).toBeUndefined();
  expect(view.ram('t1.new')?.equals(content('t1.new', SIZE).data)).toBe(true);

  release();
  read(store, 't1.mid', 8); // now mid outscores low, and low is free to go
  await clock.advance(1000);
  expect(store.get('t1.mid')!.inRam).toBe(true);
  expect(store.get('t1.low')!.inRam).toBe(false);
});

it('a full disk evicts its lowest-scored unread file for a better-scored newcomer', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, {
    roots: [
      { path: d.ssd, type: 'ssd', maxBytes: 2 * SIZE },
      { path: d.hdd, type: 'hdd', maxBytes: 2 * SIZE },
    ],
  });
  await putFile(store, 't1.a', SIZE, 50);
  await putFile(store, 't1.b', SIZE, 50);
  const lowest = await putFile(store, 't1.lowest', SIZE, 900);
  await putFile(store, 't1.low', SIZE, 500);
  expect(lowest.tier).toBe('hdd');
  const view = viewOf(store);
  const release = view.pin(view.get('t1.lowest')!);
  await putFile(store, 't1.new', SIZE, 0);
  expect(store.get('t1.lowest')).toBeDefined(); // being read: not evicted
  expect(store.get('t1.low')).toBeUndefined();
  expect(view.get('t1.low')).toBeUndefined();
  expect(store.get('t1.new')!.tier).toBe('hdd');
  release();
  await clock.advance(1000);
  expect(existsSync(filePath(d.hdd, 't1.low'))).toBe(false);
});

it('rebalance swaps by score within the IO budget per interval and never moves a pinned file', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, {
    roots: [
      { path: d.ssd, type: 'ssd', maxBytes: 2 * SIZE },
      { path: d.hdd, type: 'hdd' },
    ],
    ioBudgetBytes: 2 * SIZE, // one swap (demote + promote) per interval
    rebalanceIntervalMs: 1000,
  });
  await putFile(store, 's.cold1', SIZE);
  await putFile(store, 's.cold2', SIZE);
  for (const id of ['h.hot1', 'h.hot2', 'h.hot3']) await putFile(store, id, SIZE);
  read(store, 'h.hot1', 9);
  read(store, 'h.hot2', 5);
  read(store, 'h.hot3', 3);
  const view = viewOf(store);
  const release = view.pin(view.get('h.hot1')!);
  const tiers = () => Object.fromEntries(store!.list().map((f) => [f.fileId, f.tier]));

  await clock.advance(1000);
  // hot1 is pinned: the one swap goes to hot2
  expect(tiers()).toMatchObject({ 'h.hot1': 'hdd', 'h.hot2': 'ssd', 's.cold1': 'hdd', 's.cold2': 'ssd' });
  release();
  await clock.advance(1000);
  expect(tiers()).toMatchObject({ 'h.hot1': 'ssd', 'h.hot2': 'ssd', 'h.hot3': 'hdd', 's.cold1': 'hdd', 's.cold2': 'hdd' });
  // hot3 scores below both SSD files: nothing more moves
  await clock.advance(3000);
  expect(tiers()).toMatchObject({ 'h.hot1': 'ssd', 'h.hot2': 'ssd', 'h.hot3': 'hdd' });

  // moved files are byte-exact at their new place, old copies gone, workers told
  for (const id of ['h.hot1', 'h.hot2', 's.cold1', 's.cold2']) {
    const f = store.get(id)!;
    expect(f.path).toBe(filePath(f.tier === 'ssd' ? d.ssd : d.hdd, id));
    expect((await readFile(f.path)).equals(content(id, SIZE).data)).toBe(true);
    expect(existsSync(filePath(f.tier === 'ssd' ? d.hdd : d.ssd, id))).toBe(false);
    expect(view.get(id)!.path).toBe(f.path);
  }

  // new demand for the demoted files: they outscore the SSD files by the margin and come back
  read(store, 's.cold1', 30);
  read(store, 's.cold2', 30);
  await clock.advance(1000);
  expect(Object.values(tiers()).filter((t) => t === 'ssd').length).toBe(2);
  const report = await store.tick();
  expect(report.rebalance.bytesCopied).toBeLessThanOrEqual(2 * SIZE);
  await clock.advance(2000);
  expect(tiers()).toMatchObject({ 's.cold1': 'ssd', 's.cold2': 'ssd' });
});

it('a worker that dies mid-read does not pin its files forever: detaching it drops its pins', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, { ramBytes: SIZE, ramMaxFileBytes: SIZE });
  await putFile(store, 't1.old', SIZE, 50);
  await putFile(store, 't1.new', SIZE);
  await clock.advance(1000);
  expect(store.get('t1.old')!.inRam).toBe(true);
  const dying = viewOf(store);
  const healthy = viewOf(store);
  dying.pin(dying.get('t1.old')!); // never released: the worker crashes mid-response
  healthy.pin(healthy.get('t1.new')!)(); // pinned and released
  store.setPopularity({ 't1.new': 0 });
  await clock.advance(1000);
  expect(store.get('t1.old')!.inRam).toBe(true); // still pinned by the dying worker
  dying.detach(); // what the hub does on the worker's 'exit'
  await clock.advance(1000);
  expect(store.get('t1.new')!.inRam).toBe(true);
  expect(store.get('t1.old')!.inRam).toBe(false);
});
