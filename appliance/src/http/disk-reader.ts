// Disk reads for the serving path: pooled buffers, a per-disk-tier limit on reads in flight (an
// HDD seeks itself to death under unbounded concurrency), and backpressure from the socket. The
// limit counts read operations, not responses, so a slow client holding its response open never
// blocks other readers of the same disk.

import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export const CHUNK_BYTES = 256 * 1024;

/** Free 256 KiB buffers, reused once the socket has taken their bytes. */
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

/** Counting semaphore. */
export class IoLimiter {
  #active = 0;
  #waiting: (() => void)[] = [];
  limit: number;
  constructor(limit: number) {
    this.limit = limit;
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

const pool = new BufferPool(64);

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

/**
 * Write bytes [start, end] of an open file to res. Resolves with the bytes handed to the socket;
 * an empty range writes nothing and never calls `begin` (the caller sends its headers itself);
 * stops early (without error) when the client goes away; throws DiskReadError on a read failure
 * or a file shorter than expected (and whatever `hooks.readable` rejects with).
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
  let pos = start;
  let sent = 0;
  while (pos <= end) {
    if (res.destroyed) return sent;
    let want = Math.min(CHUNK_BYTES, end - pos + 1);
    if (hooks?.readable !== undefined) {
      let limit = hooks.readable(pos);
      if (typeof limit !== 'number') limit = await limit;
      if (res.destroyed) return sent;
      want = Math.min(want, limit - pos);
    }
    const buf = pool.get();
    const wait = limiter.acquire();
    if (wait) await wait;
    let n: number;
    try {
      n = (await fh.read(buf, 0, want, pos)).bytesRead;
    } catch (e) {
      pool.put(buf);
      throw new DiskReadError((e as Error).message, (e as NodeJS.ErrnoException).code);
    } finally {
      limiter.release();
    }
    if (n === 0) {
      pool.put(buf);
      throw new DiskReadError('file shorter than its inventory size');
    }
    if (begin) {
      begin();
      begin = undefined;
    }
    if (hooks?.pace !== undefined) {
      const delay = hooks.pace(n);
      if (delay !== undefined) await delay;
      if (res.destroyed) {
        pool.put(buf);
        return sent;
      }
    }
    pos += n;
    sent += n;
    const more = res.write(n === CHUNK_BYTES ? buf : buf.subarray(0, n), () => pool.put(buf));
    if (!more && !res.destroyed) await waitWritable(res);
  }
  return sent;
}
