// One try of one source for one file: ask for the bytes the staged put does not have yet
// (`Range: bytes=<written>-`, or the whole file), check the response is the file the manifest
// describes, and stream the body into the staged put in batches of up to WRITE_BATCH bytes — written
// sooner, while a write slot is free, when FLUSH_MS has passed or the source has nothing more for
// now, so a viewer reading the partial of a slow download is not kept waiting (with every slot
// taken the bytes gather until one frees: sooner would not get them to disk sooner, only in
// smaller writes). Up to WRITE_DEPTH batches are hashed and written
// at once, so reading the next batch, hashing one and writing another overlap. http: sources are
// read on a plain socket into large buffers (bulk-get.ts), https: ones and chunked bodies through
// undici (response-stream.ts).
//
// The shared token bucket is charged per batch, not per socket read: under a rate limit the
// batch is sized to about PACE_MS of the rate, so a download wakes a few dozen times a second to
// write a large batch, rather than sleeping a fraction of a millisecond per 64 KiB read (which
// cost twice the CPU per byte of an unlimited fill). Meanwhile the socket fills to its queue's
// high water mark and is paused, and TCP holds the source.
// Whatever arrived before a failure stays in the partial, so the next try — this source or
// another — resumes after it.
//
// Failures are SourceFailures with protocol's reason (reported to control) and whether the source
// is worth another try for this file; store failures (NO_SPACE, IO) pass through unchanged: they
// are the box's problem, not the source's.

import type { Dispatcher } from 'undici';
import type { FillSource } from '../../../protocol/index.ts';
import { fillSourceUrl } from '../../../protocol/index.ts';
import { StoreError } from '../store/errors.ts';
import type { StagedPut } from '../store/store.ts';
import type { WriteTiming } from '../store/stage-writer.ts';
import { FillError, SourceFailure } from './errors.ts';
import type { FillClock } from './clock.ts';
import { BulkGet, NotBulk } from './bulk-get.ts';
import { ResponseStream, type ResponseHead, type ResponseOptions, type SourceResponse } from './response-stream.ts';
import type { FillStats } from './fill-stats.ts';
import type { TokenBucket } from './token-bucket.ts';

export const WRITE_BATCH = 4 << 20;
/** appends of one download in flight at once (hashed in order, written side by side) */
export const WRITE_DEPTH = 2;
export const FLUSH_MS = 20;
/** under a rate limit, a batch is about this much time at the rate (within [MIN_BATCH, WRITE_BATCH]) */
export const PACE_MS = 40;
const MIN_BATCH = 64 << 10;

export interface SourceFetch {
  dispatcher: Dispatcher;
  /** the manifest's peer token, presented to every source */
  token: string;
  bucket: TokenBucket;
  clock: FillClock;
  /** no headers, or no body bytes, for this long: 'timeout' */
  timeoutMs: number;
  signal: AbortSignal;
  /** bytes received from the source (counted as they arrive, before they are written) */
  onBytes(n: number): void;
  /** the partial grew to `written` bytes */
  onWritten(written: number): void;
  /** where this try's time goes (seconds are added) */
  pipeline?: FillStats['pipeline'];
}

const CONTENT_RANGE_RE = /^bytes (\d+)-(\d+)\/(\d+)$/;

/** Classify what undici (or the socket under it) threw. */
function asFailure(err: unknown, url: string): Error {
  if (err instanceof SourceFailure || err instanceof StoreError || err instanceof FillError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = `${url}: ${(err as Error).message ?? String(err)}`;
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_ABORT' || (err as Error).name === 'AbortError') {
    return new FillError('stopped', msg);
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return new SourceFailure('timeout', false, msg, { cause: err });
  }
  return new SourceFailure('unreachable', false, msg, { cause: err });
}

/** Fetch the rest of the staged file from `source`. Resolves once staged.written === bytes. */
/** The batch size for the bucket's rate: about PACE_MS of it, or WRITE_BATCH when unlimited. */
export function batchFor(bytesPerSec: number): number {
  if (bytesPerSec <= 0) return WRITE_BATCH;
  return Math.max(MIN_BATCH, Math.min(WRITE_BATCH, Math.round(bytesPerSec * PACE_MS / 1000)));
}

/** Open the response: on a plain socket for http:, through undici for https: or a chunked body. */
async function open(url: URL, f: SourceFetch, o: ResponseOptions, start: number): Promise<{ res: SourceResponse; head: ResponseHead }> {
  if (url.protocol === 'http:') {
    const bulk = new BulkGet(url, o, start);
    try {
      return { res: bulk, head: await bulk.head() };
    } catch (err) {
      bulk.close();
      if (!(err instanceof NotBulk)) throw err;
    }
  }
  const res = new ResponseStream(f.dispatcher, url, o);
  try {
    return { res, head: await res.head() };
  } catch (err) {
    res.close();
    throw err;
  }
}

/** Fetch the rest of the staged file from `source`. Resolves once staged.written === bytes. */
export async function fetchFromSource(source: FillSource, fileId: string, staged: StagedPut, f: SourceFetch): Promise<void> {
  const url = fillSourceUrl(source, fileId);
  const bytes = staged.bytes;
  const start = staged.written;
  let batch: Buffer[] = [];
  let batched = 0;
  let flushedAt = f.clock.now();
  let res: SourceResponse | undefined;
  // up to WRITE_DEPTH appends in flight (oldest first; they resolve in order) while the next batch
  // is received: one download keeps the disk and the hash thread busy instead of taking turns
  const inFlight: Promise<void>[] = [];
  /** appends not resolved yet (inFlight also holds resolved ones until a flush takes them off) */
  let pending = 0;
  let writing: Promise<void> = Promise.resolve();
  const began = performance.now();
  let sourceWait = 0;
  // the store wait, split by what was still going when it ended: the append's writes (the disk),
  // or only its hash (the hash thread). One timing per append in flight, reused in turn.
  let writeWait = 0;
  let hashWait = 0;
  const timings: WriteTiming[] = Array.from({ length: WRITE_DEPTH }, () => ({ writtenAt: 0, hashedAt: 0 }));
  let issued = 0;
  let waited = 0;
  /** the next chunk; the time spent waiting for it counted when the source has none ready */
  const next = async (r: SourceResponse): Promise<Buffer | null> => {
    if (r.ready) return r.next();
    const t = performance.now();
    try {
      return await r.next();
    } finally {
      sourceWait += performance.now() - t;
    }
  };
  const flush = async (): Promise<void> => {
    if (batched === 0) return;
    const b = batch;
    const n = batched;
    batch = [];
    batched = 0;
    // (a stopped download still writes what it received: the next try resumes after it)
    const wait = f.signal.aborted ? 0 : f.bucket.reserve(n);
    if (wait > 0) {
      await writing; // what is already paid for reaches the partial (and any viewer) first
      await f.clock.sleep(wait, f.signal);
    }
    flushedAt = f.clock.now();
    while (inFlight.length >= WRITE_DEPTH) {
      const t = performance.now();
      const timing = timings[waited++ % WRITE_DEPTH];
      await inFlight.shift();
      const end = performance.now();
      // [t, end): the writes were in flight until writtenAt; after it, only the hash was left
      const onWrite = Math.min(end, Math.max(t, timing.writtenAt)) - t;
      writeWait += onWrite;
      hashWait += end - t - onWrite;
    }
    pending++;
    if (f.pipeline) {
      f.pipeline.appends++;
      f.pipeline.appendedBytes += n;
    }
    writing = staged.append(b, timings[issued++ % WRITE_DEPTH]).then(() => {
      pending--;
      res?.recycle?.(b);
      f.onWritten(staged.written);
    }, (err: unknown) => {
      pending--;
      throw err;
    });
    writing.catch(() => {}); // seen by a later flush or drained(), not as an unhandled rejection
    inFlight.push(writing);
  };
  const drained = async (): Promise<void> => {
    await flush();
    await writing;
  };
  try {
    const opened = await open(new URL(url), f, {
      headers: { authorization: `Bearer ${f.token}`, ...(start > 0 ? { range: `bytes=${start}-` } : {}) },
      timeoutMs: f.timeoutMs,
      signal: f.signal,
      stopped: () => new FillError('stopped', `${url}: stopped`),
    }, start);
    res = opened.res;
    let skip = checkResponse(opened.head, url, start, bytes);
    for (;;) {
      if (batched > 0 && pending >= WRITE_DEPTH && !res.ready) {
        // every write slot is taken and the source has nothing more for now: wait for its next
        // bytes or for a slot, whichever comes first. A slot first: write what was gathered
        // (as below, so bytes before a stall still reach the partial); bytes first: gather them
        // too. Writing small batches as they came only queued them behind the slots, and made the
        // disk's writes a few hundred KiB where the pattern it is measured with is WRITE_BATCH.
        const t = performance.now();
        await Promise.race([res.whenReady(), inFlight[inFlight.length - pending]]);
        sourceWait += performance.now() - t;
        if (!res.ready) {
          await flush();
          continue;
        }
      }
      let chunk = await next(res);
      if (chunk === null) break;
      f.onBytes(chunk.byteLength);
      if (skip > 0) {
        // a source that ignored our Range (200): drop the prefix we already hold
        const drop = Math.min(skip, chunk.byteLength);
        skip -= drop;
        chunk = chunk.subarray(drop);
        if (chunk.byteLength === 0) continue;
      }
      if (staged.appended + batched + chunk.byteLength > bytes) {
        throw new SourceFailure('size_mismatch', true, `${url}: more than the manifest's ${bytes} bytes`);
      }
      if (f.signal.aborted) throw new FillError('stopped', `${url}: stopped`);
      batch.push(chunk);
      batched += chunk.byteLength;
      // Write when the batch is full, or — while a write slot is free — when it has waited
      // FLUSH_MS or the source has nothing more for now: bytes that came before a source stalls
      // must reach the partial (and a viewer streaming this miss) without waiting for the next
      // chunk, which may never come. With every slot taken, writing now would not get them there
      // sooner: they gather (above) until a slot frees.
      if (batched >= batchFor(f.bucket.rate) || (pending < WRITE_DEPTH && (f.clock.now() - flushedAt >= FLUSH_MS || !res.ready))) await flush();
    }
    await drained();
  } catch (err) {
    res?.abort(err as Error);
    // keep what arrived intact before the failure: the next try resumes after it
    if (!(err instanceof StoreError) && !(err instanceof SourceFailure && err.reason === 'size_mismatch')) {
      await drained().catch(() => {});
    } else {
      await writing.catch(() => {});
    }
    throw asFailure(err, url);
  } finally {
    res?.close();
    if (f.pipeline) {
      f.pipeline.fetchSeconds += (performance.now() - began) / 1000;
      f.pipeline.sourceWaitSeconds += sourceWait / 1000;
      f.pipeline.storeWaitSeconds += (writeWait + hashWait) / 1000;
      f.pipeline.storeWriteWaitSeconds += writeWait / 1000;
      f.pipeline.storeHashWaitSeconds += hashWait / 1000;
    }
  }
  if (staged.written !== bytes) {
    throw new SourceFailure('unreachable', false, `${url}: body ended after ${staged.written} of ${bytes} bytes`);
  }
}

/** Is this response the file (from `start`)? Returns how many leading body bytes to drop. */
function checkResponse(res: ResponseHead, url: string, start: number, bytes: number): number {
  const s = res.status;
  if (s === 206) {
    const m = CONTENT_RANGE_RE.exec(String(res.headers['content-range'] ?? ''));
    if (!m) throw new SourceFailure('http_error', true, `${url}: 206 without a usable Content-Range`);
    if (Number(m[3]) !== bytes) throw new SourceFailure('size_mismatch', true, `${url}: source's file is ${m[3]} bytes, manifest says ${bytes}`);
    if (Number(m[1]) !== start || Number(m[2]) !== bytes - 1) {
      throw new SourceFailure('http_error', true, `${url}: asked for bytes ${start}-, got ${m[1]}-${m[2]}`);
    }
    return 0;
  }
  if (s === 200) {
    const len = res.headers['content-length'];
    if (len !== undefined && Number(len) !== bytes) {
      throw new SourceFailure('size_mismatch', true, `${url}: source's file is ${String(len)} bytes, manifest says ${bytes}`);
    }
    return start;
  }
  if (s === 416) throw new SourceFailure('size_mismatch', true, `${url}: 416 for bytes ${start}- of a ${bytes}-byte file`);
  // 5xx, 408 and 429 may pass; any other answer (404: not held, 401/403: credential refused) will not
  const transient = s >= 500 || s === 408 || s === 429;
  throw new SourceFailure('http_error', !transient, `${url}: HTTP ${s}`, { status: s });
}
