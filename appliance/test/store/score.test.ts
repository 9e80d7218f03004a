// Scoring with a manual clock, and the RAM admission threshold (no one-hit wonders).

import { expect, it } from 'vitest';
import { DEFAULT_SCORE_SETTINGS, decayDemand, scoreOf } from '../../src/store/score.ts';
import { KiB, ManualClock, open, putFile, read, useTempStore } from './helpers.ts';

const t = useTempStore();

const HOUR = 3600_000;

it('demand decays with the configured half-life and blends with control rank', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, { demandHalfLifeMs: HOUR, rebalanceIntervalMs: 10 * HOUR });
  await putFile(t.store, 't1.a', 10 * KiB);
  t.store.noteDemand({ served: { 't1.a': 40 * KiB }, hits: { 't1.a': 4 } }); // 4 whole reads
  expect(t.store.get('t1.a')!.demand).toBeCloseTo(4, 6);
  await clock.advance(HOUR);
  expect(t.store.get('t1.a')!.demand).toBeCloseTo(2, 6);
  await clock.advance(2 * HOUR);
  expect(t.store.get('t1.a')!.demand).toBeCloseTo(0.5, 6);
  const s = { ...DEFAULT_SCORE_SETTINGS, demandHalfLifeMs: HOUR };
  const local = 0.5 / (0.5 + s.demandScale);
  expect(t.store.get('t1.a')!.score).toBeCloseTo(0.5 * local, 6);

  t.store.setPopularity({ 't1.a': 0 });
  expect(t.store.get('t1.a')!.score).toBeCloseTo(scoreOf(0, 0.5, s), 6);
  expect(t.store.get('t1.a')!.score).toBeCloseTo(0.5 + 0.5 * local, 6);
  // higher rank number = less popular = lower score
  expect(scoreOf(10, 0, s)).toBeGreaterThan(scoreOf(1000, 0, s));
  expect(decayDemand(8, 0, 3 * HOUR, HOUR)).toBeCloseTo(1, 9);
});

it('demand and rank survive a restart (persisted in the inventory)', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, { demandHalfLifeMs: HOUR });
  await putFile(t.store, 't1.a', 10 * KiB);
  read(t.store, 't1.a', 3);
  t.store.setPopularity({ 't1.a': 7, 't2.later': 1 });
  await t.store.close();
  t.store = await open(t.d, clock, { demandHalfLifeMs: HOUR });
  expect(t.store.get('t1.a')).toMatchObject({ rank: 7 });
  expect(t.store.get('t1.a')!.demand).toBeCloseTo(3, 6);
});

it('RAM admits only files at or above the threshold: one read is not enough, two are', async () => {
  const clock = new ManualClock();
  t.store = await open(t.d, clock, { ramBytes: 1024 * KiB }); // default threshold 0.2
  await putFile(t.store, 't1.once', 64 * KiB);
  await putFile(t.store, 't1.twice', 64 * KiB);
  await putFile(t.store, 't1.ranked', 64 * KiB, 0); // control says most popular
  read(t.store, 't1.once');
  read(t.store, 't1.twice');
  await clock.advance(1000);
  expect(t.store.get('t1.once')!.inRam).toBe(false);
  expect(t.store.get('t1.twice')!.inRam).toBe(false);
  expect(t.store.get('t1.ranked')!.inRam).toBe(true);
  read(t.store, 't1.twice');
  await clock.advance(1000);
  expect(t.store.get('t1.twice')!.inRam).toBe(true);
  expect(t.store.get('t1.once')!.inRam).toBe(false);
  expect(t.store.usage().ram).toMatchObject({ files: 2, bytes: 128 * KiB });
});
