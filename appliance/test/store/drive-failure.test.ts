// A drive that fails for real (a loop device cut short under a mounted ext4: reads and writes get
// EIO from the kernel): after driveErrorLimit errors within the window the store takes the drive
// out of service — its files leave the inventory, nothing is written there again, its capacity is
// no longer counted — and it stays out after a restart. Errors that are not the drive's fault, or
// spread wider than the window, do not fail it.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriveErrorWindow, errnoOf, isDriveError } from '../../src/store/drive-health.ts';
import { StoreError } from '../../src/store/errors.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import type { StoreOptions } from '../../src/store/options.ts';
import { makeFaultyDrive, type FaultyDrive } from './faulty-drive.ts';
import { type Dirs, KiB, ManualClock, content, makeDirs, putFile, removeDirs } from './helpers.ts';

describe('drive error window', () => {
  it('fails a drive at the limit within the window, not for errors spread wider', () => {
    const w = new DriveErrorWindow(3, 60_000);
    expect(w.note('/a', 0)).toBe(false);
    expect(w.note('/a', 30_000)).toBe(false);
    expect(w.note('/a', 61_000)).toBe(false); // the first fell out of the window
    expect(w.note('/b', 61_000)).toBe(false); // per root
    expect(w.note('/a', 62_000)).toBe(true);
    expect(w.count('/a', 62_000)).toBe(3);
  });

  it.each([
    ['EIO', true], ['ENXIO', true], ['EROFS', true], ['ENOSPC', false], ['ENOENT', false], [undefined, false],
  ])('%s is the drive’s fault: %s', (code, yes) => {
    expect(isDriveError(code)).toBe(yes);
  });

  it('finds the OS error under a StoreError', () => {
    const os = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    expect(errnoOf(new StoreError('IO', 'writing x', { cause: os }))).toBe('EIO');
    expect(errnoOf(new StoreError('IO', 'no cause'))).toBeUndefined();
  });
});

describe('a failing drive (real EIO from a loop device)', () => {
  let drive: FaultyDrive;
  let d: Dirs;
  let store: Store | undefined;
  const clock = new ManualClock();
  const options = (): StoreOptions => ({
    stateDir: d.state,
    roots: [
      { path: join(drive.mount, 'ssd'), type: 'ssd' },
      { path: d.hdd, type: 'hdd' },
    ],
    ramBytes: 0,
    reserveBytes: 0,
    rebalanceIntervalMs: 3_600_000,
    driveErrorLimit: 3,
    driveErrorWindowMs: 60_000,
    clock,
  });

  beforeEach(async () => {
    drive = makeFaultyDrive();
    d = await makeDirs();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    drive.close();
    await removeDirs(d);
  });

  it('is taken out of service after the limit of read and write errors, and stays out after a restart', async () => {
    store = await openStore(options());
    const ssd = join(drive.mount, 'ssd');
    for (const id of ['t1.a', 't1.b', 't1.c']) expect((await putFile(store, id, 300 * KiB)).root).toBe(ssd);
    drive.breakUnder(store.list().map((f) => f.path));
    const capacityBefore = store.usage().ssd.capacity;
    expect(capacityBefore).toBeGreaterThan(0);

    // 1: a read (the store's own re-verify) fails with EIO: that file is quarantined, the drive not yet
    expect(await store.verify('t1.a')).toBe(false);
    expect(store.failedDrives()).toEqual([]);
    // 2: a write fails (the writeback past the device's end: fsync says EIO)
    const e = content('t1.d', 300 * KiB);
    const err = await store.put('t1.d', [e.data], { bytes: e.data.length, sha256: e.sha256, kind: 'video', tier: 'ssd' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(StoreError);
    expect(errnoOf(err)).toBe('EIO');
    expect(store.failedDrives()).toEqual([]);
    // 3: a serving worker's read error, relayed by the daemon
    store.noteReadError('t1.b', 'EIO');

    expect(store.failedDrives()).toMatchObject([{ root: ssd, tier: 'ssd', reason: expect.stringContaining('EIO') }]);
    expect(store.list().map((f) => f.fileId)).toEqual([]); // t1.b and t1.c left the inventory
    expect(store.snapshot()).toEqual([]);
    expect(store.quarantined().files.map((f) => [f.fileId, f.reason])).toEqual([
      ['t1.a', expect.stringContaining('read failed on verify')],
      ['t1.b', expect.stringContaining('drive failed')],
      ['t1.c', expect.stringContaining('drive failed')],
    ]);
    const usage = store.usage();
    expect(usage.ssd.capacity).toBe(0);
    expect(usage.ssd.roots).toMatchObject([{ path: ssd, failed: expect.stringContaining('I/O errors') }]);
    // nothing is written there again: a put meant for SSD lands on the other drive
    expect((await putFile(store, 't1.e', 100 * KiB)).root).toBe(d.hdd);
    expect(store.rootFor(1)?.path).toBe(d.hdd);
    await store.close();

    // a restart does not touch the failed drive (no reconcile there) and serves what is elsewhere
    store = await openStore(options());
    expect(store.failedDrives()).toMatchObject([{ root: ssd, tier: 'ssd' }]);
    expect(store.list().map((f) => f.fileId)).toEqual(['t1.e']);
    expect(store.usage().ssd.capacity).toBe(0);
  });

  it('errors that are not the drive’s fault never fail it', async () => {
    store = await openStore(options());
    await putFile(store, 't1.a', 100 * KiB);
    for (let i = 0; i < 5; i++) store.noteReadError('t1.a', 'ENOENT');
    store.noteReadError('t1.a', undefined); // a file shorter than its row: the file, not the drive
    expect(store.failedDrives()).toEqual([]);
    expect(store.list().map((f) => f.fileId)).toEqual(['t1.a']);
  });
});
