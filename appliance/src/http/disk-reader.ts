// Disk reads for the serving path: pooled buffers, a per-disk-tier limit on reads in flight (an
// HDD seeks itself to death under unbounded concurrency), and backpressure from the socket. The
// limit counts read operations, not responses, so a slow client holding its response open never
// blocks other readers of the same disk.
//
// An SSD's chunks are read on the event loop (one pread each, as nginx reads with sendfile off):
// the file is almost always in the page cache or on flash, and the threadpool hop — a futex wake
// of a pool thread, a context switch there and back, two more event-loop turns — cost more than
// the read. bench/serve/viewers-cost.ts (1,500 players, 4 alternating rounds, load 18–24): 224–382
// CPU-µs per request (rounds 224, 254, 266, 382) against 288–487 through the threadpool (nginx
// 117–137), and the disk titles no longer fall behind the RAM ones (on-time share 0.89 against
// 0.90 overall in the worst round, where the threadpool had 0.16 against 0.44). The price is that
// a read of a cold page blocks this worker for the device's latency, as it blocks an nginx worker.

import { read, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ServeResponse as ServerResponse } from './h1/response.ts';

// Each chunk costs a fixed ~100 µs of CPU on this path (threadpool hop, event-loop turns, the
// socket write's JS and syscalls) beside the copies: bench/serve/disk-cost.ts under load measured
// 1.43 / 0.64 / 0.55 CPU-s per GiB at 128 KiB / 512 KiB / 1 MiB (nginx 0.29). 2 MiB with the same
// pool bytes was worse (pool misses: fresh buffers fault their pages in).
export const CHUNK_BYTES = 1024 * 1024;
/** reads in flight per response of a published file: the next chunk is read while one is sent */
const READ_AHEAD = 2;

/** Free read buffers (CHUNK_BYTES), reused once the socket has taken their bytes. */
class BufferPool {
  #free: Buffer[] = [];
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  }
  put(b: Buffer): void {
    if (this.#free.length < this.max) this.#free.push(b);
  }
}

/** Counting semaphore over one disk tier's reads, and how that tier is read. */
export class IoLimiter {
  #active = 0;
  #waiting: (() => void)[] = [];
  limit: number;
  /** read published files synchronously on the event loop (SSD), not through the threadpool */
  readonly onLoop: boolean;
  constructor(limit: number, onLoop = false) {
    this.limit = limit;
    this.onLoop = onLoop;
  }
  acquire(): Promise<void> | undefined {
    if (this.#active < this.limit) {
      this.#active++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}

/** 16 MiB of free buffers kept per worker */
const pool = new BufferPool(16);

/** A read of a published file failed; `code` is the OS error's (EIO…), for the drive's error count. */
export class DiskReadError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

function waitWritable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * What makes a body other than a plain read of a published file (none for a viewer's hit):
 * a file still being written, and a rate limit on the writes.
 */
export interface BodyHooks {
  /**
   * How far (exclusive) the file may be read from `pos`: more than `pos`, possibly after waiting
   * (a miss streamed while its download writes it). Rejects when those bytes will never come.
   */
  readable?(pos: number): number | Promise<number>;
  /** Before `n` bytes are written: a promise to wait on (peer rate limit), or undefined. */
  pace?(n: number): Promise<void> | undefined;
}

/** One read issued ahead: settles (never rejects) once the kernel is done with `buf`. */
interface PendingRead {
  buf: Buffer;
  pos: number;
  want: number;
  done: Promise<{ n: number; err: NodeJS.ErrnoException | null }>;
}

/** The same, read now on the event loop: settled when it returns (the limiter is not needed). */
function readNow(fd: number, want: number, pos: number): PendingRead {
  const buf = pool.get();
  let n = 0;
  let err: NodeJS.ErrnoException | null = null;
  try {
    n = readSync(fd, buf, 0, want, pos);
  } catch (e) {
    err = e as NodeJS.ErrnoException;
  }
  return { buf, pos, want, done: Promise.resolve({ n, err }) };
}

function readAt(fd: number, want: number, pos: number, limiter: IoLimiter): PendingRead {
  const buf = pool.get();
  const wait = limiter.acquire();
  const issue = (resolve: (r: { n: number; err: NodeJS.ErrnoException | null }) => void): void => {
    // the callback form: no FileHandle promise machinery per chunk
    read(fd, buf, 0, want, pos, (err, n) => {
      limiter.release();
      resolve({ n, err });
    });
  };
  return { buf, pos, want, done: new Promise((resolve) => (wait === undefined ? issue(resolve) : void wait.then(() => issue(resolve)))) };
}

/** Buffers of reads still in flight go back to the pool once the kernel has filled them. */
function abandon(reads: PendingRead[]): void {
  for (const r of reads) void r.done.then(() => pool.put(r.buf));
  reads.length = 0;
}

/**
 * Write bytes [start, end] of an open file to res. Resolves with the bytes handed to the socket;
 * an empty range writes nothing and never calls `begin` (the caller sends its headers itself);
 * stops early (without error) when the client goes away; throws DiskReadError on a read failure
 * or a file shorter than expected (and whatever `hooks.readable` rejects with).
 *
 * A published file on the threadpool (HDD) has its next chunk read while the current one goes
 * to the socket (READ_AHEAD reads in flight per response), so the socket never idles on the disk
 * and the disk never on the socket; on the event loop (SSD, `limiter.onLoop`) a chunk is read
 * when the socket has taken the one before; a body still being written (`hooks.readable`) reads
 * one chunk at a time through the threadpool, as far as it is written.
 */
export async function pumpRange(
  fh: FileHandle,
  start: number,
  end: number,
  res: ServerResponse,
  limiter: IoLimiter,
  /** called once, after the first read succeeded and before its bytes are written (headers) */
  begin?: () => void,
  hooks?: BodyHooks,
): Promise<number> {
  const fd = fh.fd;
  // a body still being written keeps to the threadpool (its reads wait on the download anyway);
  // a read on the loop is done when it returns, so there is nothing to overlap: one at a time
  const onLoop = limiter.onLoop && hooks?.readable === undefined;
  const depth = hooks?.readable === undefined && !onLoop ? READ_AHEAD : 1;
  const reads: PendingRead[] = [];
  let next = start; // first byte not yet asked for
  let sent = 0;
  try {
    while (next <= end || reads.length > 0) {
      if (res.destroyed) return sent;
      while (next <= end && reads.length < depth) {
        let want = Math.min(CHUNK_BYTES, end - next + 1);
        if (hooks?.readable !== undefined) {
          let limit = hooks.readable(next);
          if (typeof limit !== 'number') limit = await limit;
          if (res.destroyed) return sent;
          want = Math.min(want, limit - next);
        }
        reads.push(onLoop ? readNow(fd, want, next) : readAt(fd, want, next, limiter));
        next += want;
      }
      const r = reads[0];
      const { n, err } = await r.done;
      reads.shift();
      if (err !== null) {
        pool.put(r.buf);
        throw new DiskReadError(err.message, err.code);
      }
      // short only at the end of the file: a published file is shorter than the store says (a
      // file still being written may have been read before its bytes settled: ask again there)
      if (n === 0 || (n < r.want && reads.length > 0)) {
        pool.put(r.buf);
        throw new DiskReadError('file shorter than its inventory size');
      }
      if (n < r.want) next = r.pos + n;
      if (res.destroyed) {
        pool.put(r.buf);
        return sent;
      }
      if (begin) {
        begin();
        begin = undefined;
      }
      if (hooks?.pace !== undefined) {
        const delay = hooks.pace(n);
        if (delay !== undefined) await delay;
        if (res.destroyed) {
          pool.put(r.buf);
          return sent;
        }
      }
      sent += n;
      const buf = r.buf;
      const more = res.write(n === CHUNK_BYTES ? buf : buf.subarray(0, n), () => pool.put(buf));
      if (!more && !res.destroyed) await waitWritable(res);
    }
    return sent;
  } finally {
    abandon(reads);
  }
}
