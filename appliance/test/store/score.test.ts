// Scoring with a manual clock, and the RAM admission threshold (no one-hit wonders).

import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_SCORE_SETTINGS, decayDemand, scoreOf } from '../../src/store/score.ts';
import type { Store } from '../../src/store/store.ts';
import { type Dirs, KiB, makeDirs, ManualClock, open, putFile, read, removeDirs } from './helpers.ts';

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

const HOUR = 3600_000;

it('demand decays with the configured half-life and blends with control rank', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, { demandHalfLifeMs: HOUR, rebalanceIntervalMs: 10 * HOUR });
  await putFile(store, 't1.a', 10 * KiB);
  store.noteDemand({ served: { 't1.a': 40 * KiB }, hits: { 't1.a': 4 } }); // 4 whole reads
  expect(store.get('t1.a')!.demand).toBeCloseTo(4, 6);
  await clock.advance(HOUR);
  expect(store.get('t1.a')!.demand).toBeCloseTo(2, 6);
  await clock.advance(2 * HOUR);
  expect(store.get('t1.a')!.demand).toBeCloseTo(0.5, 6);
  const s = { ...DEFAULT_SCORE_SETTINGS, demandHalfLifeMs: HOUR };
  const local = 0.5 / (0.5 + s.demandScale);
  expect(store.get('t1.a')!.score).toBeCloseTo(0.5 * local, 6);

  store.setPopularity({ 't1.a': 0 });
  expect(store.get('t1.a')!.score).toBeCloseTo(scoreOf(0, 0.5, s), 6);
  expect(store.get('t1.a')!.score).toBeCloseTo(0.5 + 0.5 * local, 6);
  // higher rank number = less popular = lower score
  expect(scoreOf(10, 0, s)).toBeGreaterThan(scoreOf(1000, 0, s));
  expect(decayDemand(8, 0, 3 * HOUR, HOUR)).toBeCloseTo(1, 9);
});

it('demand and rank survive a restart (persisted in the inventory)', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, { demandHalfLifeMs: HOUR });
  await putFile(store, 't1.a', 10 * KiB);
  read(store, 't1.a', 3);
  store.setPopularity({ 't1.a': 7, 't2.later': 1 });
  await store.close();
  store = await open(d, clock, { demandHalfLifeMs: HOUR });
  expect(store.get('t1.a')).toMatchObject({ rank: 7 });
  expect(store.get('t1.a')!.demand).toBeCloseTo(3, 6);
});

it('RAM admits only files at or above the threshold: one read is not enough, two are', async () => {
  const clock = new ManualClock();
  store = await open(d, clock, { ramBytes: 1024 * KiB }); // default threshold 0.2
  await putFile(store, 't1.once', 64 * KiB);
  await putFile(store, 't1.twice', 64 * KiB);
  await putFile(store, 't1.ranked', 64 * KiB, 0); // control says most popular
  read(store, 't1.once');
  read(store, 't1.twice');
  await clock.advance(1000);
  expect(store.get('t1.once')!.inRam).toBe(false);
  expect(store.get('t1.twice')!.inRam).toBe(false);
  expect(store.get('t1.ranked')!.inRam).toBe(true);
  read(store, 't1.twice');
  await clock.advance(1000);
  expect(store.get('t1.twice')!.inRam).toBe(true);
  expect(store.get('t1.once')!.inRam).toBe(false);
  expect(store.usage().ram).toMatchObject({ files: 2, bytes: 128 * KiB });
});
