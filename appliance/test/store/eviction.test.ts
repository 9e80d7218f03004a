// Eviction by score never takes a file being read (pin table), and the background rebalance
// promotes/demotes between SSD and HDD within its IO budget, through the verified atomic copy.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { filePath } from '../../src/store/layout.ts';
import { content, KiB, ManualClock, open, putFile, read, useTempStore, viewOf } from './helpers.ts';

const t = useTempStore();

const SIZE = 32 * KiB;

it('a full RAM tier evicts its lowest-scored file that is not being read', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, { ramBytes: 2 * SIZE, ramMaxFileBytes: SIZE });
  for (const id of ['t1.low', 't1.mid', 't1.new']) await putFile(t.store, id, SIZE);
  read(t.store, 't1.low', 2);
  read(t.store, 't1.mid', 4);
  await clock.advance(1000);
  expect(t.store.get('t1.low')!.inRam && t.store.get('t1.mid')!.inRam).toBe(true);

  const view = viewOf(t.store);
  expect(view.ram('t1.low')).toBeDefined();
  const release = view.pin(view.get('t1.low')!); // a worker is sending t1.low right now
  read(t.store, 't1.new', 8);
  await clock.advance(1000);
  expect(t.store.get('t1.new')!.inRam).toBe(true);
  expect(t.store.get('t1.low')!.inRam).toBe(true); // pinned: kept although it scores lowest
  expect(t.store.get('t1.mid')!.inRam).toBe(false);
  expect(view.ram('t1.mid')).toBeUndefined();
  expect(view.ram('t1.new')?.equals(content('t1.new', SIZE).data)).toBe(true);

  release();
  read(t.store, 't1.mid', 8); // now mid outscores low, and low is free to go
  await clock.advance(1000);
  expect(t.store.get('t1.mid')!.inRam).toBe(true);
  expect(t.store.get('t1.low')!.inRam).toBe(false);
});

it('a full disk evicts its lowest-scored unread file for a better-scored newcomer', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, {
    roots: [
      { path: t.d.ssd, type: 'ssd', maxBytes: 2 * SIZE },
      { path: t.d.hdd, type: 'hdd', maxBytes: 2 * SIZE },
    ],
  });
  await putFile(t.store, 't1.a', SIZE, 50);
  await putFile(t.store, 't1.b', SIZE, 50);
  const lowest = await putFile(t.store, 't1.lowest', SIZE, 900);
  await putFile(t.store, 't1.low', SIZE, 500);
  expect(lowest.tier).toBe('hdd');
  const view = viewOf(t.store);
  const release = view.pin(view.get('t1.lowest')!);
  await putFile(t.store, 't1.new', SIZE, 0);
  expect(t.store.get('t1.lowest')).toBeDefined(); // being read: not evicted
  expect(t.store.get('t1.low')).toBeUndefined();
  expect(view.get('t1.low')).toBeUndefined();
  expect(t.store.get('t1.new')!.tier).toBe('hdd');
  release();
  await clock.advance(1000);
  expect(existsSync(filePath(t.d.hdd, 't1.low'))).toBe(false);
});

it('rebalance swaps by score within the IO budget per interval and never moves a pinned file', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, {
    roots: [
      { path: t.d.ssd, type: 'ssd', maxBytes: 2 * SIZE },
      { path: t.d.hdd, type: 'hdd' },
    ],
    ioBudgetBytes: 2 * SIZE, // one swap (demote + promote) per interval
    rebalanceIntervalMs: 1000,
  });
  await putFile(t.store, 's.cold1', SIZE);
  await putFile(t.store, 's.cold2', SIZE);
  for (const id of ['h.hot1', 'h.hot2', 'h.hot3']) await putFile(t.store, id, SIZE);
  read(t.store, 'h.hot1', 9);
  read(t.store, 'h.hot2', 5);
  read(t.store, 'h.hot3', 3);
  const view = viewOf(t.store);
  const release = view.pin(view.get('h.hot1')!);
  const tiers = () => Object.fromEntries(t.store!.list().map((f) => [f.fileId, f.tier]));

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
    const f = t.store.get(id)!;
    expect(f.path).toBe(filePath(f.tier === 'ssd' ? t.d.ssd : t.d.hdd, id));
    expect((await readFile(f.path)).equals(content(id, SIZE).data)).toBe(true);
    expect(existsSync(filePath(f.tier === 'ssd' ? t.d.hdd : t.d.ssd, id))).toBe(false);
    expect(view.get(id)!.path).toBe(f.path);
  }

  // new demand for the demoted files: they outscore the SSD files by the margin and come back
  read(t.store, 's.cold1', 30);
  read(t.store, 's.cold2', 30);
  await clock.advance(1000);
  expect(Object.values(tiers()).filter((t) => t === 'ssd').length).toBe(2);
  const report = await t.store.tick();
  expect(report.rebalance.bytesCopied).toBeLessThanOrEqual(2 * SIZE);
  await clock.advance(2000);
  expect(tiers()).toMatchObject({ 's.cold1': 'ssd', 's.cold2': 'ssd' });
});

it('a worker that dies mid-read does not pin its files forever: detaching it drops its pins', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, { ramBytes: SIZE, ramMaxFileBytes: SIZE });
  await putFile(t.store, 't1.old', SIZE, 50);
  await putFile(t.store, 't1.new', SIZE);
  await clock.advance(1000);
  expect(t.store.get('t1.old')!.inRam).toBe(true);
  const dying = viewOf(t.store);
  const healthy = viewOf(t.store);
  dying.pin(dying.get('t1.old')!); // never released: the worker crashes mid-response
  healthy.pin(healthy.get('t1.new')!)(); // pinned and released
  t.store.setPopularity({ 't1.new': 0 });
  await clock.advance(1000);
  expect(t.store.get('t1.old')!.inRam).toBe(true); // still pinned by the dying worker
  dying.detach(); // what the hub does on the worker's 'exit'
  await clock.advance(1000);
  expect(t.store.get('t1.new')!.inRam).toBe(true);
  expect(t.store.get('t1.old')!.inRam).toBe(false);
});
