// Popularity: what a heartbeat adds to which file, decay with a half-life, promotions, and the
// store's additive merge (real SQLite).

import { describe, expect, it } from 'vitest';
import type { ContentFile } from '../../protocol/index.ts';
import { PopularityBook } from '../src/fill/popularity-book.ts';
import { decayed, heartbeatViews, playedMs, promotedViews } from '../src/fill/popularity.ts';
import { planCatalog } from '../src/fill/plan-input.ts';
import { SqliteRepository } from '../src/store/sqlite-repository.ts';
import type { CatalogTitle } from '../src/catalog.ts';

const DAY = 86_400_000;
const file = (fileId: string, kind: ContentFile['kind'], bandwidth: number, bytes: number): ContentFile => ({
  fileId, kind, bandwidth, bytes, mimeType: 'video/mp4', codecs: 'x', sha256: 'a'.repeat(64),
  initRange: { start: 0, end: 1 }, indexRange: { start: 2, end: 3 },
});
// a 100 s title: bytes = bandwidth / 8 × 100
const LADDER = [
  file('t1.v480', 'video', 1_000_000, 12_500_000),
  file('t1.v720', 'video', 3_000_000, 37_500_000),
  file('t1.v1080', 'video', 6_000_000, 75_000_000),
  file('t1.aen', 'audio', 128_000, 1_600_000),
  file('t1.ade', 'audio', 128_000, 1_600_000),
  file('t1.sen', 'text', 0, 10_000),
];

describe('a heartbeat adds views', () => {
  const cases: Array<[string, number, number, Record<string, number>]> = [
    // name, bitrate kbps, ms played, views expected per file
    ['10 s at exactly the 720p rung', 3000, 10_000, { 't1.v720': 0.1, 't1.aen': 0.1, 't1.ade': 0.1, 't1.sen': 0.1 }],
    ['a bitrate between rungs counts for the closest one', 5000, 10_000, { 't1.v1080': 5000 * 1000 / 8 * 10 / 75_000_000, 't1.aen': 0.1, 't1.ade': 0.1, 't1.sen': 0.1 }],
    ['the whole title at 480p is one view of it', 1000, 100_000, { 't1.v480': 1, 't1.aen': 1, 't1.ade': 1, 't1.sen': 1 }],
    ['no bitrate reported: audio and text only', 0, 10_000, { 't1.aen': 0.1, 't1.ade': 0.1, 't1.sen': 0.1 }],
    ['nothing played, nothing counted', 3000, 0, {}],
  ];
  it.each(cases)('%s', (_name, kbps, ms, want) => {
    const got = Object.fromEntries(heartbeatViews(LADDER, 100_000, kbps, ms).map((v) => [v.fileId, v.views]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [id, v] of Object.entries(want)) expect(got[id]).toBeCloseTo(v, 9);
  });

  const played: Array<[string, [number, number], [number, number], number]> = [
    // name, previous [at, position], this [at, position], ms counted (cap 180 s)
    ['wall time between heartbeats', [0, 0], [10_000, 9_500], 10_000],
    ['paused: the position did not move', [0, 5_000], [10_000, 5_000], 0],
    ['a seek still counts wall time', [0, 5_000], [10_000, 600_000], 10_000],
    ['a long gap is capped at the session TTL', [0, 0], [3_600_000, 60_000], 180_000],
    ['out of order', [10_000, 0], [5_000, 1_000], 0],
  ];
  it.each(played)('%s', (_name, [at0, p0], [at1, p1], ms) => {
    expect(playedMs({ at: at0, positionMs: p0 }, { at: at1, positionMs: p1 }, 180_000)).toBe(ms);
  });
});

describe('decay and promotions', () => {
  it('a view counts half after one half-life, a quarter after two', () => {
    expect(decayed(8, 0, 7 * DAY, 7 * DAY)).toBeCloseTo(4);
    expect(decayed(8, 0, 14 * DAY, 7 * DAY)).toBeCloseTo(2);
    expect(decayed(8, 5, 0, 7 * DAY)).toBe(8);
  });

  it('a promotion predicts its views until release, then decays like history', () => {
    const p = { expectedViews: 1000, releaseAt: 10 * DAY };
    expect(promotedViews(p, 0, 7 * DAY)).toBe(1000);
    expect(promotedViews(p, 17 * DAY, 7 * DAY)).toBeCloseTo(500);
  });
});

describe('the popularity book and the store', () => {
  const title = (titleId: string, regions: string[], ids: string[]): CatalogTitle => ({
    titleId, name: titleId, regions, fileIds: ids, kids: new Set(),
    manifest: { version: 1, titleId, durationMs: 100_000, files: ids.map((id) => file(id, 'video', 1, 100)), kids: [], templates: { dash: '', hls: { master: '', media: {} } }, createdAt: '' },
  });

  it('merges by decay in the store, per region, and survives a reopen of the database file', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'edgebox-pop-'));
    try {
      const path = join(dir, 'c.db');
      let repo = new SqliteRepository(path);
      let book = new PopularityBook(repo, 7 * DAY, (e) => { throw e; });
      book.record('eu', [{ fileId: 'a.v1', views: 8 }], 0);
      await book.flush();
      book.record('eu', [{ fileId: 'a.v1', views: 1 }], 7 * DAY); // stored 8 → 4, + 1
      book.record('us', [{ fileId: 'a.v1', views: 2 }], 7 * DAY);
      await book.flush();
      await repo.close();
      repo = new SqliteRepository(path);
      book = new PopularityBook(repo, 7 * DAY, (e) => { throw e; });
      // a late delta (dated before what is stored) is decayed to the stored time and added
      book.record('eu', [{ fileId: 'a.v1', views: 2 }], 0);
      await book.flush();
      expect(await book.top('eu', 10, 7 * DAY)).toEqual([{ fileId: 'a.v1', views: expect.closeTo(6, 9) }]);
      expect((await book.top('eu', 10, 14 * DAY))[0].views).toBeCloseTo(3, 9);
      expect((await book.top('us', 10, 7 * DAY))[0].views).toBeCloseTo(2, 9);
      await repo.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('regional views: history decayed to now, promotions raise a title, regions a title may not play in are -1', async () => {
    const repo = new SqliteRepository(':memory:');
    const book = new PopularityBook(repo, 7 * DAY, (e) => { throw e; });
    const cat = planCatalog([title('a', [], ['a.v1', 'a.a1']), title('b', ['us'], ['b.v1']), title('c', [], ['c.v1'])]);
    book.record('eu', [{ fileId: 'a.v1', views: 10 }, { fileId: 'a.a1', views: 12 }], 0);
    const promos = [{ titleId: 'c', regions: ['eu'], expectedViews: 50, releaseAt: 30 * DAY }];
    const got = await book.regional(cat, cat.titleRegions, ['eu', 'us'], promos, 7 * DAY);
    expect([...got.get('eu')!]).toEqual([5, 6, -1, 50]);
    expect([...got.get('us')!]).toEqual([0, 0, 0, 0]);
    await repo.close();
  });
});
