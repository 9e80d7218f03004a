// Handles kept open between responses must never serve a replaced file's old bytes.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenFiles } from '../../src/http/open-files.ts';
import { WorkerStoreView } from '../../src/store/store-view.ts';
import type { FileEntry } from '../../src/store/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgebox-open-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(path: string, etag: string): FileEntry {
  return { fileId: 't1.v1', bytes: 3, sha256: '0'.repeat(64), kind: 'video', mtimeMs: 0, etag, tier: 'ssd', path, slot: 0 };
}

async function read(files: OpenFiles, e: FileEntry): Promise<string> {
  const fh = await files.acquire(e);
  const buf = Buffer.alloc(3);
  await fh.read(buf, 0, 3, 0);
  files.release(e);
  return buf.toString();
}

describe('OpenFiles', () => {
  it('reuses a handle, and a re-published file (same path, new entry) is read afresh', async () => {
    const path = join(dir, 't1.v1');
    writeFileSync(path, 'old');
    const view = new WorkerStoreView();
    const files = new OpenFiles(view);
    const e1 = entry(path, '"1"');
    view.handle({ type: 'store:snapshot', files: [e1] });
    expect(await read(files, e1)).toBe('old');
    expect(await read(files, e1)).toBe('old');
    expect(files.size).toBe(1);

    // atomic re-publish: a new inode renamed over the path, and a new entry from the store
    writeFileSync(join(dir, 'tmp'), 'new');
    renameSync(join(dir, 'tmp'), path);
    const e2 = entry(path, '"2"');
    view.handle({ type: 'store:upsert', file: e2 });
    expect(await read(files, e2)).toBe('new');
    // the old entry's handle is closed once it is no longer current
    files.sweep();
    expect(files.size).toBe(1);
    files.close();
    expect(files.size).toBe(0);
  });

  it('a file that cannot be opened is not cached', async () => {
    const view = new WorkerStoreView();
    const files = new OpenFiles(view);
    const e = entry(join(dir, 'absent'), '"x"');
    await expect(files.acquire(e)).rejects.toThrow(/ENOENT/);
    files.release(e, true);
    expect(files.size).toBe(0);
    files.close();
  });
});
