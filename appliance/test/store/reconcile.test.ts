// Start-up reconcile: orphans, missing files, size mismatches and stray copies are found,
// quarantined and never served; intact files are untouched.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { filePath } from '../../src/store/layout.ts';
import { type Dirs, KiB, makeDirs, ManualClock, open, putFile, removeDirs } from './helpers.ts';

let d: Dirs;
beforeEach(async () => {
  d = await makeDirs();
});
afterEach(async () => {
  await removeDirs(d);
});

it('quarantines orphans, missing files and size mismatches; serves only intact files', async () => {
  const clock = new ManualClock();
  const first = await open(d, clock);
  const good = await putFile(first, 't1.good', 8 * KiB);
  const gone = await putFile(first, 't1.gone', 8 * KiB);
  const short = await putFile(first, 't1.short', 8 * KiB);
  const dup = await putFile(first, 't1.dup', 8 * KiB);
  await first.close();

  await rm(gone.path);
  await truncate(short.path, 5 * KiB);
  const orphan = filePath(d.hdd, 't9.orphan');
  await mkdir(dirname(orphan), { recursive: true });
  await writeFile(orphan, 'not published');
  // a copy left by a move interrupted after its rename: same content on the other root
  await mkdir(dirname(filePath(d.hdd, 't1.dup')), { recursive: true });
  await copyFile(dup.path, filePath(d.hdd, 't1.dup'));
  await mkdir(join(d.ssd, '.tmp'), { recursive: true });
  await writeFile(join(d.ssd, '.tmp', 't1.x.123.abc'), 'half a write');

  const store = await open(d, clock);
  try {
    const r = store.reconcileReport;
    expect(r.tempsRemoved).toBe(1);
    expect(r.duplicatesRemoved).toBe(1);
    const byId = Object.fromEntries(r.quarantined.map((q) => [q.fileId, q.reason]));
    expect(Object.keys(byId).sort()).toEqual(['t1.gone', 't1.short', 't9.orphan']);
    expect(byId['t1.gone']).toMatch(/missing/);
    expect(byId['t1.short']).toMatch(/size mismatch/);
    expect(byId['t9.orphan']).toMatch(/orphan/);

    expect(store.list().map((f) => f.fileId)).toEqual(['t1.dup', 't1.good']);
    expect(store.snapshot().map((f) => f.fileId).sort()).toEqual(['t1.dup', 't1.good']);
    expect(store.get('t1.good')?.path).toBe(good.path);

    // moved out of the served tree, kept for the operator
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(short.path)).toBe(false);
    expect(existsSync(filePath(d.hdd, 't1.dup'))).toBe(false);
    expect(existsSync(dup.path)).toBe(true);
    expect((await readdir(join(d.hdd, '.quarantine'))).some((n) => n.startsWith('t9.orphan.'))).toBe(true);
    expect((await readdir(join(d.ssd, '.quarantine'))).some((n) => n.startsWith('t1.short.'))).toBe(true);
    const q = store.quarantined();
    expect(q.files.map((f) => [f.fileId, f.state]).sort()).toEqual([
      ['t1.gone', 'quarantined'],
      ['t1.short', 'quarantined'],
    ]);
    expect(q.orphans.map((o) => o.fileId)).toEqual(['t9.orphan']);
    expect(store.usage().quarantined).toBe(3);

    // a quarantined file can be published again (the fill refetches it)
    await putFile(store, 't1.short', 8 * KiB);
    expect(store.list().map((f) => f.fileId)).toContain('t1.short');
  } finally {
    await store.close();
  }
});

it('adopts the other copy when an interrupted move left the inventory pointing at a missing file', async () => {
  const clock = new ManualClock();
  const first = await open(d, clock);
  const f = await putFile(first, 't1.moved', 8 * KiB);
  await first.close();
  const other = filePath(d.hdd, 't1.moved');
  await mkdir(dirname(other), { recursive: true });
  await copyFile(f.path, other);
  await rm(f.path);
  const store = await open(d, clock);
  try {
    expect(store.reconcileReport.adopted).toBe(1);
    expect(store.get('t1.moved')).toMatchObject({ tier: 'hdd', path: other });
  } finally {
    await store.close();
  }
});
