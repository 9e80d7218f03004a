// The one way bytes become a published file: write to a temp file in the same root while hashing,
// check size and sha256, fsync the file, rename it into place, fsync the directory. Until the
// rename nothing is visible under the published name; after it the caller writes the inventory
// row. On any failure the temp file is removed and a StoreError says why. A staged put
// (staged-put.ts) writes its partial file itself and publishes it with the same last step,
// publishTemp().

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StoreError, asStoreError } from './errors.ts';

export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

export interface AtomicWrite {
  tmpDir: string;
  finalPath: string;
  source: ByteSource;
  bytes: number;
  sha256: string;
  /** called after each chunk reaches the temp file (tests use it to crash mid-write) */
  onProgress?: (written: number) => void;
}

export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/**
 * The publishing step: fsync and close a verified temp file, then rename it to its published
 * name (creating and fsyncing the shard directory when new) and fsync the directory. The handle
 * is closed whatever happens; the temp file is left for the caller to remove on failure.
 */
export async function publishTemp(fh: FileHandle, tmpPath: string, finalPath: string): Promise<void> {
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const dir = dirname(finalPath);
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(dirname(dir));
  await rename(tmpPath, finalPath);
  await fsyncDir(dir);
}

export async function writeAtomic(w: AtomicWrite): Promise<void> {
  const tmpPath = join(w.tmpDir, `${w.finalPath.slice(w.finalPath.lastIndexOf('/') + 1)}.${process.pid}.${randomBytes(6).toString('hex')}`);
  let fh: FileHandle | undefined;
  try {
    await mkdir(w.tmpDir, { recursive: true });
    fh = await open(tmpPath, 'wx', 0o644);
    const hash = createHash('sha256');
    let written = 0;
    for await (const part of w.source) {
      const chunk = typeof part === 'string' ? Buffer.from(part) : part;
      // Stop reading at the first byte past the declared size: a runaway source never fills the disk.
      if (written + chunk.byteLength > w.bytes) {
        throw new StoreError('SIZE_MISMATCH', `source is longer than the declared ${w.bytes} bytes`);
      }
      hash.update(chunk);
      await writeAll(fh, chunk);
      written += chunk.byteLength;
      w.onProgress?.(written);
    }
    if (written !== w.bytes) {
      throw new StoreError('SIZE_MISMATCH', `source gave ${written} bytes, declared ${w.bytes}`);
    }
    const digest = hash.digest('hex');
    if (digest !== w.sha256.toLowerCase()) {
      throw new StoreError('SHA256_MISMATCH', `sha256 is ${digest}, declared ${w.sha256}`);
    }
    const done = fh;
    fh = undefined;
    await publishTemp(done, tmpPath, w.finalPath);
  } catch (err) {
    await fh?.close().catch(() => {});
    await unlink(tmpPath).catch(() => {});
    throw asStoreError(err, `writing ${w.finalPath}`);
  }
}
