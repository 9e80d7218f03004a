// Bodies that come from disk, and multipart/byteranges bodies (from RAM or disk).
//
// Multiple ranges: up to `maxRanges` satisfiable ranges are answered 206 multipart/byteranges,
// one part per range in the order requested (no coalescing: players ask for few, disjoint
// ranges, and the bound keeps the overhead small). More than `maxRanges` and the Range header is
// ignored with a 200 of the whole file, as RFC 9110 §14.2 allows (nginx's max_ranges does the
// same).

import { randomBytes } from 'node:crypto';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { FileEntry } from '../store/types.ts';
import { DiskReadError, pumpRange, type IoLimiter } from './disk-reader.ts';
import { sendError } from './errors.ts';
import { headersOf } from './file-headers.ts';
import type { ByteSpan } from './range.ts';
import { CONCAT_MAX_BYTES, type ResponseHeaders } from './h1/response.ts';
import { limiterFor, type Exchange, type ServeContext } from './exchange.ts';

const BOUNDARY = `edgebox-${randomBytes(12).toString('hex')}`;

/**
 * Ranges up to this size from an SSD whose file is already open are read with one synchronous
 * pread on the event loop — as nginx reads — instead of a threadpool round trip: index, init and
 * small probe fetches are dominated by that hop, and a flash read (page cache or not) is short.
 * HDD reads and larger ranges always go through the threadpool.
 */
export const SYNC_READ_MAX_BYTES = 64 * 1024;

/** Where small synchronous reads land (see trySync), one per thread. */
const readScratch = Buffer.allocUnsafeSlow(CONCAT_MAX_BYTES);

/** Count a failed read and tell the main thread (the drive's error count, a re-verify). */
function diskError(ctx: ServeContext, file: FileEntry, e: unknown): void {
  ctx.metrics.diskError(file.tier);
  ctx.onDiskError(file.fileId, (e as Error).message, (e as { code?: string }).code);
}

/** One small SSD range served synchronously; false if it needs the async path. */
function trySync(ctx: ServeContext, x: Exchange, file: FileEntry, status: number, headers: ResponseHeaders, start: number, end: number): boolean {
  const length = end - start + 1;
  if (file.tier !== 'ssd' || length > SYNC_READ_MAX_BYTES) return false;
  const fd = ctx.files.acquireOpen(file);
  if (fd === undefined) return false;
  let broken = true;
  try {
    // end() below copies a body this small behind its head before it returns (response.ts), so
    // one buffer serves every such read: no pool slice per response (a new 8 KiB slab every four)
    const buf = length <= CONCAT_MAX_BYTES ? readScratch.subarray(0, length) : Buffer.allocUnsafe(length);
    const n = length === 0 ? 0 : readSync(fd, buf, 0, length, start);
    if (n !== length) throw new DiskReadError('file shorter than its inventory size');
    broken = false;
    x.res.writeHead(status, headers);
    x.res.end(buf);
    x.bytes = n;
  } catch (e) {
    // nothing sent yet: a clean 503 lets the player fail over at once
    diskError(ctx, file, e);
    x.tier = 'none';
    sendError(x.res, 503, 'disk_error', 'the file could not be read; try another appliance');
  } finally {
    ctx.files.release(file, broken);
  }
  return true;
}

async function openOrFail(ctx: ServeContext, x: Exchange, file: FileEntry): Promise<FileHandle | undefined> {
  try {
    return await ctx.files.acquire(file);
  } catch (e) {
    ctx.files.release(file, true);
    diskError(ctx, file, e);
    x.tier = 'none';
    if (!x.res.headersSent) sendError(x.res, 503, 'disk_error', 'the file could not be read; try another appliance');
    return undefined;
  }
}

/** Returns whether the handle should be treated as broken. */
function failMidway(ctx: ServeContext, x: Exchange, file: FileEntry, e: unknown): boolean {
  if (e instanceof DiskReadError) diskError(ctx, file, e);
  if (!x.res.headersSent && !x.res.destroyed) {
    // the first read failed: nothing is out yet, so the player can fail over cleanly
    x.tier = 'none';
    sendError(x.res, 503, 'disk_error', 'the file could not be read; try another appliance');
  } else {
    // headers (and maybe some bytes) are out: the only honest signal left is a cut connection
    x.res.destroy();
  }
  return e instanceof DiskReadError;
}

export function sendDisk(
  ctx: ServeContext,
  x: Exchange,
  file: FileEntry,
  status: number,
  headers: ResponseHeaders,
  start: number,
  end: number,
): void {
  if (x.hooks === undefined && trySync(ctx, x, file, status, headers, start, end)) return;
  void (async () => {
    const fh = await openOrFail(ctx, x, file);
    if (!fh) return;
    let broken = false;
    const begin = () => x.res.writeHead(status, headers);
    try {
      if (x.res.destroyed) return;
      x.bytes = await pumpRange(fh, start, end, x.res, limiterFor(ctx, file), begin, x.hooks);
      if (!x.res.headersSent) begin();
      x.res.end();
    } catch (e) {
      broken = failMidway(ctx, x, file, e);
    } finally {
      ctx.files.release(file, broken);
    }
  })();
}

/** The framing of a multipart/byteranges body: response headers, one head per part, the tail. */
export interface Multipart {
  headers: string[];
  partHeads: Buffer[];
  tail: Buffer;
}

export function multipartOf(file: FileEntry, ranges: ByteSpan[]): Multipart {
  const h = headersOf(file);
  const partHeads = ranges.map((r) =>
    Buffer.from(
      `\r\n--${BOUNDARY}\r\nContent-Type: ${h.contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${file.bytes}\r\n\r\n`,
    ),
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  let length = tail.length;
  for (let i = 0; i < ranges.length; i++) length += partHeads[i].length + ranges[i].end - ranges[i].start + 1;
  const headers = h.base.slice();
  headers.push('Content-Type', `multipart/byteranges; boundary=${BOUNDARY}`, 'Content-Length', String(length));
  return { headers, partHeads, tail };
}

/** Write a whole multipart body from an open file (headers included); stops if the client goes. */
export async function pumpMultipart(fh: FileHandle, m: Multipart, ranges: ByteSpan[], x: Exchange, limiter: IoLimiter): Promise<void> {
  const res = x.res;
  res.writeHead(206, m.headers);
  for (let i = 0; i < ranges.length; i++) {
    res.write(m.partHeads[i]);
    x.bytes += await pumpRange(fh, ranges[i].start, ranges[i].end, res, limiter, undefined, x.hooks);
    if (res.destroyed) return;
  }
  res.end(m.tail);
}

export function sendMultipart(
  ctx: ServeContext,
  x: Exchange,
  file: FileEntry,
  ranges: ByteSpan[],
  ram: Buffer | undefined,
  head: boolean,
): void {
  const m = multipartOf(file, ranges);
  const res = x.res;
  if (head) {
    res.writeHead(206, m.headers);
    res.end();
    return;
  }
  if (ram !== undefined) {
    res.writeHead(206, m.headers);
    for (let i = 0; i < ranges.length; i++) {
      res.write(m.partHeads[i]);
      res.write(ram.subarray(ranges[i].start, ranges[i].end + 1));
      x.bytes += ranges[i].end - ranges[i].start + 1;
    }
    res.end(m.tail);
    return;
  }
  void (async () => {
    const fh = await openOrFail(ctx, x, file);
    if (!fh) return;
    let broken = false;
    try {
      if (res.destroyed) return;
      await pumpMultipart(fh, m, ranges, x, limiterFor(ctx, file));
    } catch (e) {
      broken = failMidway(ctx, x, file, e);
    } finally {
      ctx.files.release(file, broken);
    }
  })();
}
