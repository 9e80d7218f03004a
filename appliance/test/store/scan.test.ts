// THE SCAN TEST: a popular file stays in RAM and on SSD while a scan of many cold files passes
// through. The same access trace is replayed against a pure LRU of the same capacities first,
// to show the trace does push the popular file out of an LRU tier — so this test would fail
// if the store's tiers were LRU.

import { LRUCache } from 'lru-cache';
import { expect, it } from 'vitest';
import { KiB, ManualClock, open, putFile, read, useTempStore } from './helpers.ts';

const t = useTempStore();

const SIZE = 64 * KiB;
const SCAN = Array.from({ length: 16 }, (_, i) => `scan.c${String(i).padStart(2, '0')}`);

function lruSurvivors(capacityFiles: number, trace: string[], preload: string[]): string[] {
  const lru = new LRUCache<string, true>({ max: capacityFiles });
  for (const id of [...preload, ...trace]) lru.set(id, true);
  return [...lru.keys()];
}

it('a scan of cold files does not push the popular file out of RAM or SSD', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, {
    roots: [
      { path: t.d.ssd, type: 'ssd', maxBytes: 3 * SIZE },
      { path: t.d.hdd, type: 'hdd' },
    ],
    ramBytes: 2 * SIZE,
    ramMaxFileBytes: SIZE,
    ioBudgetBytes: 4 * SIZE,
  });
  await putFile(t.store, 'hot.pop', SIZE);
  await putFile(t.store, 'warm.a', SIZE);
  await putFile(t.store, 'warm.b', SIZE);
  for (const id of SCAN) await putFile(t.store, id, SIZE);
  expect(t.store.get('hot.pop')!.tier).toBe('ssd');
  expect(t.store.get(SCAN[0])!.tier).toBe('hdd');

  // the popular file is watched a lot, then a scan reads every cold file once, after it
  read(t.store, 'hot.pop', 10);
  await clock.advance(1000);
  expect(t.store.get('hot.pop')!.inRam).toBe(true);
  const trace: string[] = ['hot.pop'];
  for (const id of SCAN) {
    read(t.store, id, 1);
    trace.push(id);
    await clock.advance(1000); // rebalance + RAM admission run between scan reads
  }
  await clock.advance(5000);

  // under pure LRU, the same trace would have evicted the popular file from both tiers
  expect(lruSurvivors(2, trace, [])).not.toContain('hot.pop');
  expect(lruSurvivors(3, trace, ['warm.a', 'warm.b'])).not.toContain('hot.pop');

  const pop = t.store.get('hot.pop')!;
  expect(pop.inRam).toBe(true);
  expect(pop.tier).toBe('ssd');
  // one-hit wonders never entered RAM
  for (const id of SCAN) expect(t.store.get(id)!.inRam).toBe(false);
  expect(t.store.usage().ram.files).toBe(1);
  // the SSD still holds exactly its capacity, the popular file among it
  const onSsd = t.store.list().filter((f) => f.tier === 'ssd').map((f) => f.fileId);
  expect(onSsd.length).toBeLessThanOrEqual(3);
  expect(onSsd).toContain('hot.pop');
});
