// One try of one source for one file (undici's dispatch API, response-stream.ts): ask for the bytes the staged put does not have yet
// (`Range: bytes=<written>-`, or the whole file), check the response is the file the manifest
// describes, and stream the body into the staged put through the shared token bucket, in batches
// of up to WRITE_BATCH bytes (one writev each) — written sooner when FLUSH_MS has passed or the
// bucket makes us wait, so a viewer reading the partial of a slow download is not kept waiting.
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
import { FillError, SourceFailure } from './errors.ts';
import type { FillClock } from './clock.ts';
import { ResponseStream, type ResponseHead } from './response-stream.ts';
import type { TokenBucket } from './token-bucket.ts';

export const WRITE_BATCH = 1 << 20;
export const FLUSH_MS = 20;

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
export async function fetchFromSource(source: FillSource, fileId: string, staged: StagedPut, f: SourceFetch): Promise<void> {
  const url = fillSourceUrl(source, fileId);
  const bytes = staged.bytes;
  const start = staged.written;
  const res = new ResponseStream(f.dispatcher, new URL(url), {
    headers: { authorization: `Bearer ${f.token}`, ...(start > 0 ? { range: `bytes=${start}-` } : {}) },
    timeoutMs: f.timeoutMs,
    signal: f.signal,
    stopped: () => new FillError('stopped', `${url}: stopped`),
  });
  let batch: Buffer[] = [];
  let batched = 0;
  let flushedAt = f.clock.now();
  // one write in flight while the next batch is received and hashed
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    if (batched === 0) return;
    const b = batch;
    batch = [];
    batched = 0;
    flushedAt = f.clock.now();
    await writing;
    writing = staged.append(b).then(() => f.onWritten(staged.written));
    writing.catch(() => {}); // seen by the next flush or drained(), not as an unhandled rejection
  };
  const drained = async (): Promise<void> => {
    await flush();
    await writing;
  };
  try {
    let skip = checkResponse(await res.head(), url, start, bytes);
    for (let chunk = await res.next(); chunk !== null; chunk = await res.next()) {
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
      const wait = f.bucket.reserve(chunk.byteLength);
      if (wait > 0) {
        await drained();
        await f.clock.sleep(wait, f.signal);
      }
      if (f.signal.aborted) throw new FillError('stopped', `${url}: stopped`);
      batch.push(chunk);
      batched += chunk.byteLength;
      if (batched >= WRITE_BATCH || f.clock.now() - flushedAt >= FLUSH_MS) await flush();
    }
    await drained();
  } catch (err) {
    res.abort(err as Error);
    // keep what arrived intact before the failure: the next try resumes after it
    if (!(err instanceof StoreError) && !(err instanceof SourceFailure && err.reason === 'size_mismatch')) {
      await drained().catch(() => {});
    } else {
      await writing.catch(() => {});
    }
    throw asFailure(err, url);
  } finally {
    res.close();
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
