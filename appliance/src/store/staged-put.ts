// A staged put: how a file that arrives over time (a fill download) is published without a copy.
// store.stage() reserves room on a root exactly as put() does and opens a partial file,
// `<root>/.tmp/<fileId>.partial`; the caller appends bytes (hashed as they are written, both by
// stage-writer.ts: off the main thread, and past the page cache where the filesystem allows) and
// commit() checks size and sha256, then publishes that same file with put()'s last step
// (fsync, rename, fsync the directory, inventory row). Nothing is visible under the published
// name before the commit, and a failed commit publishes nothing.
//
// A partial outlives abort({ keepPartial: true }) and a restart (reconcile keeps `*.partial`),
// so the next stage() of the same file resumes it: the prefix already on disk is re-hashed and
// `written` starts there (the caller asks its source for `Range: bytes=<written>-`).

import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { publishTemp } from './atomic-write.ts';
import { StoreError, asStoreError } from './errors.ts';
import { filePath, partialOf, partialPath, tmpDir } from './layout.ts';
import { roomOf, type Root } from './roots.ts';
import type { PutMeta, StoredFile } from './store-report.ts';
import type { StoreState } from './store-state.ts';
import { StageWriter, type WriteTiming } from './stage-writer.ts';

export interface StagedPut {
  readonly fileId: string;
  readonly bytes: number;
  readonly sha256: string;
  /** the partial file; on commit this inode is renamed to the published path */
  readonly path: string;
  /** the store root it will be published on */
  readonly root: string;
  /** bytes written to the partial file (a reader may read [0, written)) */
  readonly written: number;
  /** bytes accepted by append() and hashed: written, or queued to be; the next append goes here */
  readonly appended: number;
  /** bytes found in a partial left by an earlier attempt (0 for a fresh file) */
  readonly resumedFrom: number;
  /**
   * Append bytes at `appended`: hashed (on the hash thread) in call order and written at once, beside
   * the writes of earlier appends still in flight (an append may be made before the last one
   * resolved: the caller receives the next batch while this one is written); appends resolve, and
   * `written` grows, in call order. The chunks must stay unchanged until it resolves.
   * Resolves when these bytes are written. More than `bytes` in all: SIZE_MISMATCH, nothing taken.
   * `timing`, if given, gets when this append's writes and its hash were done (a fill's pipeline
   * stats: which of the two it waited for).
   */
  append(chunks: readonly Uint8Array[], timing?: WriteTiming): Promise<void>;
  /** Truncate the partial to nothing (its bytes were wrong) and start the hash over. */
  reset(): Promise<void>;
  /**
   * Verify and publish. Short of `bytes`: SIZE_MISMATCH and the staged put stays as it was (append
   * more). Wrong sha256: SHA256_MISMATCH, nothing published, and the partial is reset to empty
   * (write it again from another source, or abort). Any other failure aborts it.
   */
  commit(): Promise<StoredFile>;
  /** Release the reservation; the partial is deleted unless keepPartial (to resume later). */
  abort(o?: { keepPartial?: boolean }): Promise<void>;
}

/** What the store facade lends a staged put: put()'s placement and bookkeeping. */
export interface StageHost {
  s: StoreState;
  /** reserve meta.bytes on a root (put()'s placement: may evict lower-scored files, or NO_SPACE) */
  place(fileId: string, meta: PutMeta): Promise<Root>;
  /** after the rename: the inventory row, the workers, the old copy (put()'s last step) */
  record(fileId: string, root: Root, meta: PutMeta): StoredFile;
  /** the same content is already published: its listing, and nothing to do */
  alreadyHeld(fileId: string, meta: PutMeta): StoredFile | undefined;
  countError(code: string): void;
}

/** A partial of this file left on a root, the longest one that is not too long; others go. */
async function findPartial(s: StoreState, fileId: string, bytes: number): Promise<{ root: Root; size: number } | undefined> {
  let best: { root: Root; size: number } | undefined;
  for (const root of s.roots) {
    if (root.failed) continue;
    const path = partialPath(root.path, fileId);
    const size = await stat(path).then((st) => st.size, () => -1);
    if (size < 0) continue;
    if (size > bytes || (best && best.size >= size)) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (best) await unlink(partialPath(best.root.path, fileId)).catch(() => {});
    best = { root, size };
  }
  return best;
}

/** Partial files on the roots that no staged put is writing now. */
export async function listPartials(s: StoreState): Promise<Array<{ fileId: string; root: string; bytes: number }>> {
  const out: Array<{ fileId: string; root: string; bytes: number }> = [];
  for (const root of s.roots) {
    if (root.failed) continue;
    for (const name of await readdir(tmpDir(root.path)).catch(() => [] as string[])) {
      const fileId = partialOf(name);
      if (fileId === undefined || s.busy.has(fileId)) continue;
      const size = await stat(partialPath(root.path, fileId)).then((st) => st.size, () => -1);
      if (size >= 0) out.push({ fileId, root: root.path, bytes: size });
    }
  }
  return out;
}

/** Stage a file (the facade has checked the arguments and marked the fileId busy). */
export async function stageFile(host: StageHost, fileId: string, meta: PutMeta): Promise<StagedPut> {
  const s = host.s;
  const found = await findPartial(s, fileId, meta.bytes);
  let root: Root;
  let resumed = 0;
  if (found && roomOf(found.root, s.t.reserveBytes) >= meta.bytes - found.size) {
    root = found.root;
    root.used += meta.bytes; // the reservation, as place() makes it
    resumed = found.size;
  } else {
    if (found) await unlink(partialPath(found.root.path, fileId)).catch(() => {});
    root = await host.place(fileId, meta);
  }
  const path = partialPath(root.path, fileId);
  let fh: FileHandle | undefined;
  try {
    await mkdir(tmpDir(root.path), { recursive: true });
    fh = await open(path, resumed > 0 ? 'r+' : 'w', 0o644);
    let writer: StageWriter | undefined;
    if (resumed > 0) {
      // the prefix already on disk is re-hashed (on the hash thread); unreadable: start over
      writer = await StageWriter.open(path, fh, resumed).catch(() => undefined);
      if (writer === undefined) resumed = 0;
    }
    if (resumed === 0) await fh.truncate(0);
    writer ??= await StageWriter.open(path, fh, 0);
    return new Staged(host, fileId, meta, root, path, fh, writer, resumed);
  } catch (err) {
    await fh?.close().catch(() => {});
    await unlink(path).catch(() => {});
    root.used -= meta.bytes;
    s.noteIoError(root.path, err);
    throw asStoreError(err, `staging ${fileId}`);
  }
}

type State = 'open' | 'failed' | 'done';

class Staged implements StagedPut {
  readonly fileId: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly path: string;
  readonly root: string;
  readonly resumedFrom: number;
  #host: StageHost;
  #meta: PutMeta;
  #root: Root;
  #fh: FileHandle;
  /** hashes (on the hash thread) and writes the appended bytes */
  #writer: StageWriter;
  #written: number;
  #appended: number;
  /** the last queued write (never rejects): reset, commit and abort wait for it */
  #tail: Promise<void> = Promise.resolve();
  #state: State = 'open';
  #busy = false;
  #released = false;

  constructor(host: StageHost, fileId: string, meta: PutMeta, root: Root, path: string, fh: FileHandle, writer: StageWriter, written: number) {
    this.#host = host;
    this.fileId = fileId;
    this.bytes = meta.bytes;
    this.sha256 = meta.sha256.toLowerCase();
    this.#meta = { ...meta, sha256: this.sha256 };
    this.#root = root;
    this.root = root.path;
    this.path = path;
    this.#fh = fh;
    this.#writer = writer;
    this.#written = written;
    this.#appended = written;
    this.resumedFrom = written;
  }

  get written(): number {
    return this.#written;
  }

  /** bytes accepted by append() (hashed), written or still queued */
  get appended(): number {
    return this.#appended;
  }

  #enter(what: string): void {
    if (this.#state === 'done') throw new StoreError('CLOSED', `${this.fileId}: staged put already committed or aborted (${what})`);
    if (this.#busy) throw new StoreError('BUSY', `${this.fileId}: ${what} while another operation on the staged put runs`);
    this.#busy = true;
  }

  append(chunks: readonly Uint8Array[], timing?: WriteTiming): Promise<void> {
    if (this.#state === 'done') return Promise.reject(new StoreError('CLOSED', `${this.fileId}: staged put already committed or aborted (append)`));
    if (this.#busy) return Promise.reject(new StoreError('BUSY', `${this.fileId}: append during a reset or commit`));
    if (this.#state === 'failed') return Promise.reject(new StoreError('IO', `${this.fileId}: an earlier write failed; reset() or abort()`));
    const n = chunks.reduce((a, c) => a + c.byteLength, 0);
    if (this.#appended + n > this.bytes) {
      return Promise.reject(new StoreError('SIZE_MISMATCH', `${this.fileId}: more than the declared ${this.bytes} bytes`));
    }
    // hashed in call order (the writer posts the hash now) and written at once, beside the writes
    // of earlier appends still in flight (other ranges of the file); `written` moves in call order
    const at = this.#appended;
    this.#appended += n;
    const started = this.#writer.write(chunks, at, timing);
    started.catch(() => {}); // seen below, in order
    const write = this.#tail.then(async () => {
      try {
        await started;
      } catch (err) {
        this.#state = 'failed'; // the hash has bytes the file may not: only reset() or abort() now
        this.#host.s.noteIoError(this.#root.path, err);
        throw asStoreError(err, `writing ${this.path}`);
      }
      if (this.#state === 'failed') throw new StoreError('IO', `${this.fileId}: an earlier write failed`);
      this.#written = at + n;
    });
    this.#tail = write.catch(() => {});
    return write;
  }

  async reset(): Promise<void> {
    this.#enter('reset');
    try {
      await this.#tail;
      await this.#truncate();
    } finally {
      this.#busy = false;
    }
  }

  async #truncate(): Promise<void> {
    try {
      await this.#fh.truncate(0);
    } catch (err) {
      this.#state = 'failed';
      this.#host.s.noteIoError(this.#root.path, err);
      throw asStoreError(err, `truncating ${this.path}`);
    }
    await this.#writer.reset();
    this.#written = 0;
    this.#appended = 0;
    this.#state = 'open';
  }

  async commit(): Promise<StoredFile> {
    this.#enter('commit');
    try {
      await this.#tail;
      if (this.#state === 'failed') throw new StoreError('IO', `${this.fileId}: an earlier write failed; reset() or abort()`);
      if (this.#written !== this.bytes) {
        throw new StoreError('SIZE_MISMATCH', `${this.fileId}: ${this.#written} bytes staged, declared ${this.bytes}`);
      }
      const digest = await this.#writer.digest();
      if (digest !== this.sha256) {
        await this.#truncate();
        throw new StoreError('SHA256_MISMATCH', `${this.fileId}: sha256 is ${digest}, declared ${this.sha256}`);
      }
    } catch (err) {
      this.#busy = false;
      const e = asStoreError(err, `publishing ${this.fileId}`);
      this.#host.countError(e.code);
      throw e;
    }
    // verified: publish it, or give the staged put up
    try {
      const held = this.#host.alreadyHeld(this.fileId, this.#meta);
      if (held) {
        await this.#release(false);
        return held;
      }
      this.#state = 'done';
      await this.#writer.close();
      await publishTemp(this.#fh, this.path, filePath(this.#root.path, this.fileId));
      this.#released = true; // the reservation is now the published file's
      const stored = this.#host.record(this.fileId, this.#root, this.#meta);
      this.#host.s.busy.delete(this.fileId);
      return stored;
    } catch (err) {
      this.#host.s.noteIoError(this.#root.path, err);
      await this.#release(false);
      const e = asStoreError(err, `publishing ${this.fileId}`);
      this.#host.countError(e.code);
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  async abort(o: { keepPartial?: boolean } = {}): Promise<void> {
    await this.#tail;
    await this.#release(o.keepPartial === true && this.#state === 'open');
  }

  async #release(keepPartial: boolean): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#state = 'done';
    await this.#writer.close();
    await this.#fh.close().catch(() => {});
    if (!keepPartial) await unlink(this.path).catch(() => {});
    this.#root.used -= this.bytes;
    this.#host.s.busy.delete(this.fileId);
  }
}
