// How a staged put's bytes reach its partial file: hashed on the hash thread, and written — where
// the memory lines up with the file — past the page cache (O_DIRECT).
//
// Why past the page cache: a fill writes whole files once, at hundreds of MB/s. Through the cache
// each byte is copied into a freshly allocated cache page and written back later, which on the
// 2-core bench box cost about 2.9 CPU-s per GiB (a buffered 1 GiB write + fsync) against 0.04 for
// the same bytes written direct. It also keeps a fill from pushing viewers' pages out of the cache.
// Why another thread hashes: sha256 (about 0.7 CPU-s per GiB) was then the largest cost left on the
// daemon's main thread, which also runs the fill's sockets and the control link; on the other
// thread it uses the second core.
//
// Bytes a fill source read into the shared slabs (shared-slabs.ts, fill/bulk-get.ts) are neither
// copied nor posted: a message names their range. bulk-get lands each read at the slab offset that
// matches its file offset within a 4 KiB block, so a contiguous run of such bytes can be written
// direct as it is: the part before the run's first block boundary and after its last one through
// the ordinary (buffered) handle, the aligned middle through the O_DIRECT one. Buffered pieces of
// consecutive writes meet inside one block and never overlap a direct range, so the kernel never
// has dirty cache pages to flush before a direct write. Any other bytes (undici's, ordinary
// memory) are copied for the hash thread and written buffered, as before. A filesystem without
// O_DIRECT (tmpfs: EINVAL at open) or a direct write refused with EINVAL: buffered.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-messages.ts';
import { isShared, sharedMemory } from './shared-slabs.ts';

const BLOCK = 4096;
/** an aligned middle this small is not worth a second syscall: all buffered */
const MIN_DIRECT = 64 << 10;

interface HashThread {
  worker: Worker | null;
  pending: Map<number, { resolve(r: HashReply): void; reject(e: Error): void }>;
  seq: number;
  ids: number;
}

const t: HashThread = { worker: null, pending: new Map(), seq: 0, ids: 0 };
/** the hash thread's [busy ms, CPU µs], added to by it (hash-worker.ts) */
const hashTime = new Float64Array(new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT));

/** Time the hash thread spent hashing since the process started (all staged puts, every thread restart). */
export function hashThreadTime(): { busySeconds: number; cpuSeconds: number } {
  return { busySeconds: hashTime[0] / 1e3, cpuSeconds: hashTime[1] / 1e6 };
}

/**
 * When one write() call's writes and its hash were done (performance.now() ms), for a caller that
 * wants to know which of the two it waited for. Filled in by write(); reusable (nothing allocated
 * per chunk).
 */
export interface WriteTiming {
  writtenAt: number;
  hashedAt: number;
}

function worker(): Worker {
  if (t.worker) return t.worker;
  const w = new Worker(new URL('./hash-worker.ts', import.meta.url), { workerData: { memory: sharedMemory(), time: hashTime.buffer } });
  const fail = (err: Error) => {
    if (t.worker !== w) return;
    t.worker = null; // its hashes are gone: the puts using them fail, new ones start a new thread
    for (const p of t.pending.values()) p.reject(err);
    t.pending.clear();
  };
  w.on('message', (r: HashReply) => {
    const p = t.pending.get(r.seq);
    if (!p) return;
    t.pending.delete(r.seq);
    if (t.pending.size === 0) w.unref();
    if (r.error !== undefined) p.reject(new Error(`hash thread: ${r.error}`));
    else p.resolve(r);
  });
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`hash thread exited (${code})`)));
  // ref'd only while a request is pending (ask). After the listeners: adding a 'message' listener
  // refs the worker's port again, and an idle hash thread kept any process that had opened a store
  // alive for ever (bench:fill never exited after writing its results)
  w.unref();
  t.worker = w;
  return w;
}

/**
 * Start the hash thread now (the store does when it opens): booting it takes a few hundred ms on a
 * loaded box, which the first staged put should not wait for.
 */
export function startHashThread(): void {
  worker();
}

type Request = HashRequest extends infer R ? (R extends HashRequest ? Omit<R, 'seq'> : never) : never;

function ask(m: Request, transfer: ArrayBuffer[] = []): Promise<HashReply> {
  const w = worker();
  const seq = ++t.seq;
  return new Promise((resolve, reject) => {
    if (t.pending.size === 0) w.ref();
    t.pending.set(seq, { resolve, reject });
    w.postMessage({ ...m, seq }, transfer);
  });
}

/** Adjacent chunks of one memory joined into runs (bulk-get's reads into a slab are adjacent). */
function runs(chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const last = out.at(-1);
    if (last !== undefined && last.buffer === c.buffer && last.byteOffset + last.byteLength === c.byteOffset && isShared(c)) {
      out[out.length - 1] = new Uint8Array(c.buffer, last.byteOffset, last.byteLength + c.byteLength);
    } else if (c.byteLength > 0) {
      out.push(c);
    }
  }
  return out;
}

async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off, position + off);
    off += bytesWritten;
  }
}

async function writevAll(fh: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const { bytesWritten } = await fh.writev(chunks, position);
  if (bytesWritten === total) return;
  // a short writev (rare: very large batches): finish it chunk by chunk
  let skip = bytesWritten;
  for (const c of chunks) {
    if (skip >= c.byteLength) {
      skip -= c.byteLength;
      continue;
    }
    await writeAll(fh, c.subarray(skip), position + bytesWritten);
    position += c.byteLength - skip;
    skip = 0;
  }
}

/** A second handle on a partial file, opened O_DIRECT; null where the filesystem refuses it. */
async function openDirect(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, constants.O_WRONLY | constants.O_DIRECT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return null;
    throw err;
  }
}

/** One staged put's sha256 on the hash thread, and the writes that feed it. */
export class StageWriter {
  readonly #id: number;
  readonly #fh: FileHandle;
  /** the file opened O_DIRECT (null: all buffered) */
  #direct: FileHandle | null;
  /** the direct handle after the device refused a write on it (closed with the writer) */
  #refused: FileHandle | null = null;

  private constructor(id: number, fh: FileHandle, direct: FileHandle | null) {
    this.#id = id;
    this.#fh = fh;
    this.#direct = direct;
  }

  /** Start the hash: of the partial's first `prefix` bytes (throws if it has fewer), or empty. */
  static async open(path: string, fh: FileHandle, prefix: number): Promise<StageWriter> {
    const id = ++t.ids;
    // an empty hash cannot fail: not waited for (the thread may still be booting); a failure would
    // surface at the first update or the digest
    const started = ask({ op: 'start', id, path, prefix });
    if (prefix > 0) await started;
    else started.catch(() => {});
    try {
      return new StageWriter(id, fh, await openDirect(path));
    } catch (err) {
      void ask({ op: 'end', id }).catch(() => {});
      throw err;
    }
  }

  /**
   * Hash and write `chunks` at `position`; resolves when both are done (the chunks may then be
   * reused). The hash request is posted before this returns, so the hash sees the bytes of
   * successive calls in call order even while their writes overlap: a call may be made before the
   * last one resolved (the staged put does, to keep the disk busy while the next batch arrives).
   * The writes of one call — the buffered pieces and the direct middles — cover disjoint ranges and
   * run at once, not one after another: on a busy threadpool each hop is a wait.
   * `timing`, if given, gets when the writes and when the hash were done.
   */
  write(chunks: readonly Uint8Array[], position: number, timing?: WriteTiming): Promise<void> {
    const rs = runs(chunks);
    const parts: Array<[number, number] | ArrayBuffer> = [];
    const transfer: ArrayBuffer[] = [];
    for (const r of rs) {
      if (isShared(r)) {
        parts.push([r.byteOffset, r.byteLength]);
      } else {
        const copy = new Uint8Array(r).buffer; // a copy (Buffer's slice() would be a view), handed over
        parts.push(copy);
        transfer.push(copy);
      }
    }
    let hashed = ask({ op: 'update', id: this.#id, parts }, transfer);
    if (timing !== undefined) {
      timing.writtenAt = 0;
      timing.hashedAt = 0;
      hashed = hashed.then((r) => {
        timing.hashedAt = performance.now();
        return r;
      });
    }
    hashed.catch(() => {}); // awaited below, after the writes
    const writes: Promise<void>[] = [];
    let at = position;
    let plain: Uint8Array[] = [];
    let plainAt = at;
    const flushPlain = () => {
      if (plain.length > 0) writes.push(writevAll(this.#fh, plain, plainAt));
      plain = [];
    };
    for (const r of rs) {
      const head = Math.min(r.byteLength, (BLOCK - (at % BLOCK)) % BLOCK);
      const middle = Math.floor((r.byteLength - head) / BLOCK) * BLOCK;
      // the memory lines up with the file (bulk-get placed the read so): the middle goes direct
      if (this.#direct !== null && isShared(r) && (r.byteOffset - at) % BLOCK === 0 && middle >= MIN_DIRECT) {
        // (no empty pieces: a writev of nothing is still a trip through the threadpool)
        if (head > 0) {
          if (plain.length === 0) plainAt = at;
          plain.push(r.subarray(0, head));
        }
        flushPlain();
        writes.push(this.#writeDirect(r.subarray(head, head + middle), at + head));
        plainAt = at + head + middle;
        if (head + middle < r.byteLength) plain.push(r.subarray(head + middle));
      } else {
        if (plain.length === 0) plainAt = at;
        plain.push(r);
      }
      at += r.byteLength;
    }
    flushPlain();
    const written = Promise.all(writes);
    if (timing === undefined) return written.then(() => hashed).then(() => {});
    return written.then(() => {
      timing.writtenAt = performance.now();
      return hashed;
    }).then(() => {});
  }

  /** Write an aligned range direct; where the device refuses it (EINVAL), buffered (and all later writes). */
  async #writeDirect(buf: Uint8Array, position: number): Promise<void> {
    let off = 0;
    while (off < buf.byteLength) {
      const d = this.#direct;
      const bytesWritten = d === null ? -1 : (await d.write(buf, off, buf.byteLength - off, position + off).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EINVAL' || off > 0) throw err;
        // not aligned enough for this device after all: buffered from now on (the handle is
        // closed with the writer: other writes may be using it)
        this.#direct = null;
        this.#refused ??= d;
        return { bytesWritten: -1 };
      })).bytesWritten;
      if (bytesWritten < 0 || bytesWritten === 0 || (off + bytesWritten) % BLOCK !== 0) {
        // refused, or a short direct write: the rest buffered
        if (bytesWritten > 0) off += bytesWritten;
        await writeAll(this.#fh, buf.subarray(off), position + off);
        return;
      }
      off += bytesWritten;
    }
  }

  /** The hex sha256 of everything written so far (the hash goes on). */
  async digest(): Promise<string> {
    return (await ask({ op: 'digest', id: this.#id })).digest!;
  }

  /** Start the hash over, empty (the partial was truncated). */
  async reset(): Promise<void> {
    ask({ op: 'start', id: this.#id, path: '', prefix: 0 }).catch(() => {}); // as in open()
  }

  async closeDirect(): Promise<void> {
    const d = this.#direct ?? this.#refused;
    this.#direct = null;
    this.#refused = null;
    await d?.close().catch(() => {});
  }

  /** Forget the hash and close the direct handle (the caller closes the buffered one). */
  async close(): Promise<void> {
    await this.closeDirect();
    ask({ op: 'end', id: this.#id }).catch(() => {}); // nothing to wait for
  }
}
