import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.ts';
import { filePath } from '../../src/store/layout.ts';
import { content, KiB, ManualClock, open, putFile, useTempStore } from './helpers.ts';

const t = useTempStore();

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

describe('put: atomic, verified publish', () => {
  it('publishes a good file byte-exact, at <root>/<shard>/<fileId>, and lists it', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.v1080', 300 * KiB);
    // chunked async source, like a download
    async function* chunks() {
      for (let i = 0; i < data.length; i += 7000) yield data.subarray(i, i + 7000);
    }
    const f = await t.store.put('t1.v1080', chunks(), { bytes: data.length, sha256, kind: 'video' });
    expect(f.path).toBe(filePath(t.d.ssd, 't1.v1080'));
    expect(f.tier).toBe('ssd');
    expect(Buffer.compare(await readFile(f.path), data)).toBe(0);
    expect(t.store.list().map((x) => x.fileId)).toEqual(['t1.v1080']);
    expect(t.store.snapshot()[0]).toMatchObject({ fileId: 't1.v1080', bytes: data.length, sha256, kind: 'video' });
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
  });

  it('rejects a wrong sha256, a short source and a long source: nothing published, no temp left', async () => {
    t.store = await open(t.d, new ManualClock());
    const { data, sha256 } = content('t1.a', 64 * KiB);
    const other = content('t1.b', 64 * KiB).sha256;
    expect(await code(t.store.put('t1.a', [data], { bytes: data.length, sha256: other, kind: 'audio' }))).toBe('SHA256_MISMATCH');
    expect(await code(t.store.put('t1.a', [data.subarray(1)], { bytes: data.length, sha256, kind: 'audio' }))).toBe('SIZE_MISMATCH');
    expect(await code(t.store.put('t1.a', [data, Buffer.from('x')], { bytes: data.length, sha256, kind: 'audio' }))).toBe('SIZE_MISMATCH');
    expect(t.store.list()).toEqual([]);
    expect(existsSync(filePath(t.d.ssd, 't1.a'))).toBe(false);
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
    // and the store still works afterwards
    await t.store.put('t1.a', [data], { bytes: data.length, sha256, kind: 'audio' });
    expect(t.store.list().length).toBe(1);
  });

  it('rejects bad ids and metadata before touching disk', async () => {
    t.store = await open(t.d, new ManualClock());
    const { sha256 } = content('x.y', 1);
    expect(await code(t.store.put('../etc.passwd', [], { bytes: 0, sha256, kind: 'video' }))).toBe('BAD_FILE_ID');
    expect(await code(t.store.put('t1.a', [], { bytes: -1, sha256, kind: 'video' }))).toBe('BAD_INPUT');
    expect(await code(t.store.put('t1.a', [], { bytes: 0, sha256: 'abc', kind: 'video' }))).toBe('BAD_INPUT');
    expect(await code(t.store.put('t1.a', [], { bytes: 0, sha256, kind: 'movie' as 'video' }))).toBe('BAD_INPUT');
  });

  it('bad store settings fail at open with the setting named', async () => {
    const clock = new ManualClock();
    await expect(open(t.d, clock, { roots: [] })).rejects.toThrow(/"roots"/);
    await expect(open(t.d, clock, { roots: [{ path: t.d.ssd, type: 'nvme' as 'ssd' }] })).rejects.toThrow(/"roots.0.type"/);
    await expect(open(t.d, clock, { ramBytes: -1 })).rejects.toThrow(/"ramBytes"/);
    await expect(open(t.d, clock, { popularityWeight: 2 })).rejects.toThrow(/"popularityWeight"/);
  });

  it('refuses a file no root has room for (NO_SPACE) and keeps what it had', async () => {
    t.store = await open(t.d, new ManualClock(), {
      roots: [
        { path: t.d.ssd, type: 'ssd', maxBytes: 100 * KiB },
        { path: t.d.hdd, type: 'hdd', maxBytes: 100 * KiB },
      ],
    });
    await putFile(t.store, 't1.a', 80 * KiB, 0);
    await putFile(t.store, 't1.b', 80 * KiB, 0);
    // equal-or-better scored files are never evicted for a newcomer without rank
    expect(await code(putFile(t.store, 't1.c', 80 * KiB))).toBe('NO_SPACE');
    expect(t.store.list().map((f) => f.fileId)).toEqual(['t1.a', 't1.b']);
    expect(await tmpLeft(t.d.ssd)).toEqual([]);
    expect(await tmpLeft(t.d.hdd)).toEqual([]);
  });

  it('a second put of the same content is a no-op; new content replaces the old', async () => {
    t.store = await open(t.d, new ManualClock());
    const a = await putFile(t.store, 't1.a', 10 * KiB);
    const again = await putFile(t.store, 't1.a', 10 * KiB);
    expect(again.publishedAt).toBe(a.publishedAt);
    const other = content('t1.other', 12 * KiB);
    const b = await t.store.put('t1.a', [other.data], { bytes: other.data.length, sha256: other.sha256, kind: 'video' });
    expect(b.sha256).toBe(other.sha256);
    expect(Buffer.compare(await readFile(b.path), other.data)).toBe(0);
    expect(t.store.list().length).toBe(1);
  });

  const canMount = process.getuid?.() === 0;
  it.skipIf(!canMount)('a disk that fills up mid-write (real ENOSPC on a small tmpfs) gives NO_SPACE and loses nothing', async (ctx) => {
    const small = join(t.d.base, 'small');
    await mkdir(small, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
    } catch {
      ctx.skip(); // no mount permission here; the maxBytes test above covers NO_SPACE
      return;
    }
    try {
      t.store = await open(t.d, new ManualClock(), { roots: [{ path: small, type: 'ssd' }] });
      const kept = await putFile(t.store, 't1.kept', 256 * KiB);
      const { data, sha256 } = content('t1.big', 1024 * KiB);
      async function* fillingUp() {
        yield data.subarray(0, 64 * KiB);
        // something else on the box takes the rest of the filesystem while we write
        await writeFile(join(small, 'filler'), Buffer.alloc(2 * 1024 * KiB)).catch(() => {});
        yield data.subarray(64 * KiB);
      }
      expect(await code(t.store.put('t1.big', fillingUp(), { bytes: data.length, sha256, kind: 'video' }))).toBe('NO_SPACE');
      expect(t.store.list().map((f) => f.fileId)).toEqual(['t1.kept']);
      expect(existsSync(filePath(small, 't1.big'))).toBe(false);
      expect(await tmpLeft(small)).toEqual([]);
      expect(Buffer.compare(await readFile(kept.path), content('t1.kept', 256 * KiB).data)).toBe(0);
      await t.store.close();
      t.store = undefined;
    } finally {
      execFileSync('umount', ['-l', small]);
    }
  });
});
