// Staged put: the zero-copy publish fill downloads use. Room is reserved like put(), bytes are
// appended to a partial file (hashed as they go), and commit() verifies and renames that same
// file into place — or publishes nothing and leaves nothing behind.

import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.ts';
import { filePath, partialPath } from '../../src/store/layout.ts';
import { giveSharedSlab, takeSharedSlab } from '../../src/store/shared-slabs.ts';
import { hashThreadTime } from '../../src/store/stage-writer.ts';
import { content, KiB, ManualClock, open, putFile, useTempStore, viewOf } from './helpers.ts';

const t = useTempStore();
const MiB = 1024 * KiB;

async function tmpLeft(root: string): Promise<string[]> {
  return readdir(join(root, '.tmp')).catch(() => []);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return (err as StoreError).code;
  }
  return 'no error';
}

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

describe('stage → append → commit', () => {
  it('publishes the partial file itself (same inode), byte-exact, and leaves no temp file', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.v1080', 300 * KiB);
    const staged = await t.store.stage('t1.v1080', { bytes: data.length, sha256, kind: 'video', rank: 3 });
    expect(staged.path).toBe(partialPath(t.d.ssd, 't1.v1080'));
    expect(staged.written).toBe(0);
    const inode = (await stat(staged.path)).ino;
    for (const batch of [chunks(data.subarray(0, 100 * KiB), 7000), chunks(data.subarray(100 * KiB), 64 * KiB)]) await staged.append(batch);
    expect(staged.written).toBe(data.length);
    expect(t.store.get('t1.v1080')).toBeUndefined(); // nothing visible before the commit
    const f = await staged.commit();
    expect(f).toMatchObject({ fileId: 't1.v1080', bytes: data.length, sha256, tier: 'ssd', rank: 3 });
    expect(f.path).toBe(filePath(t.d.ssd, 't1.v1080'));
    expect((await stat(f.path)).ino).toBe(inode);
    expect(Buffer.compare(await readFile(f.path), data)).toBe(0);
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
    expect(t.store.usage().counters.puts).toBe(1);
  });

  it('a commit of wrong bytes publishes nothing and empties the partial; abort leaves nothing behind', async () => {
    t.store = await open(t.d, new ManualClock(), { roots: [{ path: t.d.ssd, type: 'ssd', maxBytes: 100 * KiB }] });
    const { data, sha256 } = content('t1.a', 64 * KiB);
    const bad = Buffer.from(data);
    bad[1234] ^= 0xff;
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    await staged.append([bad]);
    expect(await code(staged.commit())).toBe('SHA256_MISMATCH');
    expect(t.store.get('t1.a')).toBeUndefined();
    expect(existsSync(filePath(t.d.ssd, 't1.a'))).toBe(false);
    expect(staged.written).toBe(0);
    expect((await stat(staged.path)).size).toBe(0);
    // the same staged put takes the right bytes from another source
    await staged.append([data]);
    expect((await staged.commit()).sha256).toBe(sha256);
    expect(t.store.usage().counters.putErrors).toEqual({ SHA256_MISMATCH: 1 });

    const other = content('t1.b', 30 * KiB);
    const s2 = await t.store.stage('t1.b', { bytes: other.data.length, sha256: other.sha256, kind: 'video' });
    await s2.append([other.data.subarray(0, 10 * KiB)]);
    await s2.abort();
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
    // the reservation is released: a file needing all the remaining room still fits
    expect(t.store.rootFor(36 * KiB)?.path).toBe(t.d.ssd);
    await putFile(t.store, 't1.c', 36 * KiB);
  });

  it('refuses a byte past the declared size, and a commit short of it, without losing what is staged', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 10 * KiB);
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    await staged.append([data.subarray(0, 4 * KiB)]);
    expect(await code(staged.commit())).toBe('SIZE_MISMATCH');
    expect(await code(staged.append([data.subarray(4 * KiB), Buffer.alloc(1)]))).toBe('SIZE_MISMATCH');
    expect(staged.written).toBe(4 * KiB);
    await staged.append([data.subarray(4 * KiB)]);
    expect(Buffer.compare(await readFile((await staged.commit()).path), data)).toBe(0);
  });

  it('appends may be queued before the last one resolved: written in order, hashed in call order', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 256 * KiB);
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    const writes = chunks(data, 32 * KiB).map((c) => staged.append([c]));
    expect(staged.appended).toBe(data.length);
    await Promise.all(writes);
    expect(staged.written).toBe(data.length);
    expect(Buffer.compare(await readFile((await staged.commit()).path), data)).toBe(0);
  });

  it('queued appends from the shared slabs (direct middles, buffered edges) are written side by side: byte-exact, and `written` grows in call order', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 3 * MiB + 12345);
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    // pieces of uneven sizes, each in a shared slab at its file offset within a block (as the
    // fill's socket reader places them), so each append has a direct middle and buffered edges
    const sizes = [700 * KiB + 3, 1 * MiB + 4095, 5, 333 * KiB, data.length];
    const slabs: Buffer[] = [];
    const ends: number[] = [];
    const writes: Promise<void>[] = [];
    let at = 0;
    for (const size of sizes) {
      const n = Math.min(size, data.length - at);
      if (n <= 0) break;
      const slab = takeSharedSlab()!;
      slabs.push(slab);
      const off = at % 4096;
      data.copy(slab, off, at, at + n);
      const end = at + n;
      writes.push(staged.append([slab.subarray(off, off + n)]).then(() => void ends.push(end)));
      at = end;
    }
    await Promise.all(writes);
    for (const slab of slabs) giveSharedSlab(slab);
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    expect(ends.at(-1)).toBe(data.length);
    expect(staged.written).toBe(data.length);
    expect(Buffer.compare(await readFile((await staged.commit()).path), data)).toBe(0);
  });

  it('an append given a timing gets when its writes and its hash were done; the hash thread counts its time', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 2 * MiB + 777);
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    const before = hashThreadTime();
    const slab = takeSharedSlab()!;
    data.copy(slab);
    const timings = [{ writtenAt: -1, hashedAt: -1 }, { writtenAt: -1, hashedAt: -1 }];
    const t0 = performance.now();
    // one from the shared slab (direct middle), one from ordinary memory (copied for the hash thread)
    await Promise.all([
      staged.append([slab.subarray(0, MiB)], timings[0]),
      staged.append([data.subarray(MiB)], timings[1]),
    ]);
    const t1 = performance.now();
    giveSharedSlab(slab);
    for (const x of timings) {
      expect(x.writtenAt).toBeGreaterThanOrEqual(t0);
      expect(x.writtenAt).toBeLessThanOrEqual(t1);
      expect(x.hashedAt).toBeGreaterThanOrEqual(t0);
      expect(x.hashedAt).toBeLessThanOrEqual(t1);
    }
    const after = hashThreadTime();
    expect(after.busySeconds).toBeGreaterThan(before.busySeconds);
    // (its CPU may not move for 2 MiB: the kernel's per-thread accounting can be tick-grained)
    expect(after.cpuSeconds).toBeGreaterThanOrEqual(before.cpuSeconds);
    expect(Buffer.compare(await readFile((await staged.commit()).path), data)).toBe(0);
  });

  it('one writer per file: a second stage or a put of a staged file is BUSY', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 8 * KiB);
    const staged = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    expect(await code(t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' }))).toBe('BUSY');
    expect(await code(t.store.put('t1.a', [data], { bytes: data.length, sha256, kind: 'video' }))).toBe('BUSY');
    await staged.abort();
    await t.store.put('t1.a', [data], { bytes: data.length, sha256, kind: 'video' });
  });

  it('reserves room like put: a second file that does not fit beside a staged one goes to the other tier', async () => {
    t.store = await open(t.d, new ManualClock(), {
      roots: [{ path: t.d.ssd, type: 'ssd', maxBytes: 100 * KiB }, { path: t.d.hdd, type: 'hdd' }],
    });
    const a = content('t1.a', 80 * KiB);
    const staged = await t.store.stage('t1.a', { bytes: a.data.length, sha256: a.sha256, kind: 'video' });
    expect(staged.root).toBe(t.d.ssd);
    const b = await putFile(t.store, 't1.b', 40 * KiB);
    expect(b.tier).toBe('hdd');
    // a preferred tier is honoured while it has room
    const c = content('t1.c', 10 * KiB);
    const s3 = await t.store.stage('t1.c', { bytes: c.data.length, sha256: c.sha256, kind: 'video', tier: 'hdd' });
    expect(s3.root).toBe(t.d.hdd);
    await s3.abort();
    await staged.abort();
  });
});

describe('resume', () => {
  it('abort({keepPartial}) keeps the partial; the next stage resumes from its length', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 200 * KiB);
    const first = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    await first.append([data.subarray(0, 77 * KiB)]);
    await first.abort({ keepPartial: true });
    expect(await t.store.partials()).toEqual([{ fileId: 't1.a', root: t.d.ssd, bytes: 77 * KiB }]);
    const again = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    expect(again.resumedFrom).toBe(77 * KiB);
    expect(again.written).toBe(77 * KiB);
    await again.append([data.subarray(77 * KiB)]);
    expect(Buffer.compare(await readFile((await again.commit()).path), data)).toBe(0);
    expect(await t.store.partials()).toEqual([]);
  });

  it('a partial survives a restart (reconcile keeps it) and its prefix is re-hashed: a damaged prefix fails the commit', async () => {
    const clock = new ManualClock();
    t.store = await open(t.d, clock);
    const { data, sha256 } = content('t1.a', 150 * KiB);
    const b = content('t1.b', 20 * KiB);
    for (const [id, c] of [['t1.a', data], ['t1.b', b.data]] as const) {
      const s = await t.store.stage(id, { bytes: c.length, sha256: id === 't1.a' ? sha256 : b.sha256, kind: 'video' });
      await s.append([c.subarray(0, 9 * KiB)]);
      await s.abort({ keepPartial: true });
    }
    await writeFile(join(t.d.ssd, '.tmp', 't1.c.123.abc'), 'a put() temp file');
    await t.store.close();

    t.store = await open(t.d, clock);
    expect(t.store.reconcileReport).toMatchObject({ partialsKept: 2, tempsRemoved: 1 });
    const resumed = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    expect(resumed.written).toBe(9 * KiB);
    await resumed.append([data.subarray(9 * KiB)]);
    expect(Buffer.compare(await readFile((await resumed.commit()).path), data)).toBe(0);

    // t1.b's partial is damaged on disk: the re-hash includes the damage, so the commit fails
    const p = partialPath(t.d.ssd, 't1.b');
    const onDisk = await readFile(p);
    onDisk[100] ^= 1;
    await writeFile(p, onDisk);
    const damaged = await t.store.stage('t1.b', { bytes: b.data.length, sha256: b.sha256, kind: 'video' });
    expect(damaged.written).toBe(9 * KiB);
    await damaged.append([b.data.subarray(9 * KiB)]);
    expect(await code(damaged.commit())).toBe('SHA256_MISMATCH');
    expect(t.store.get('t1.b')).toBeUndefined();
    await damaged.abort();
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
  });

  it('discardPartial removes a partial nobody is writing', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 20 * KiB);
    const s = await t.store.stage('t1.a', { bytes: data.length, sha256, kind: 'video' });
    await s.append([data.subarray(0, 5 * KiB)]);
    expect(await t.store.discardPartial('t1.a')).toBe(false); // being written
    await s.abort({ keepPartial: true });
    expect(await t.store.discardPartial('t1.a')).toBe(true);
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
  });
});

describe('makeRoom', () => {
  it('evicts the given candidates in order, never one being read, only when the room can be made', async () => {
    t.store = await open(t.d, new ManualClock(), { roots: [{ path: t.d.ssd, type: 'ssd', maxBytes: 100 * KiB }] });
    for (const id of ['t1.a', 't1.b', 't1.c']) await putFile(t.store, id, 30 * KiB, 0);
    const view = viewOf(t.store);
    const release = view.pin(view.get('t1.a')!);
    // 10 KiB free; 50 KiB needs two evictions: t1.a is pinned, so t1.c then t1.b
    expect(await t.store.makeRoom(50 * KiB, ['t1.a', 't1.c', 't1.b'])).toEqual(['t1.c', 't1.b']);
    expect(t.store.list().map((f) => f.fileId)).toEqual(['t1.a']);
    // 90 KiB cannot be made while t1.a is read: nothing is evicted
    expect(await t.store.makeRoom(90 * KiB, ['t1.a'])).toEqual([]);
    expect(t.store.get('t1.a')).toBeDefined();
    release();
    view.detach();
  });
});
