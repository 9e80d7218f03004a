// A viewer's request (valid URL token) for a file the store does not hold. The worker asks the
// main thread, which asks the fill engine (fill/miss-coalescer.ts): not wanted → the same fast
// 404 as ever, so the player moves on to its next base URL. Wanted → the engine's one download of
// the file (shared by every miss on every worker, and by the scheduled fill) is streamed to the
// viewer while it is written: the same headers, conditionals and Range as a hit (planResponse,
// from the manifest's size and sha256), and the body read from the partial file through one
// descriptor per worker (the inode is renamed into the store on commit, so it stays valid), never
// past the bytes the download reported written.
//
// Two rules keep bad bytes from being passed off as good: after a reset (a source served bad
// bytes) any response that already sent bytes is cut, and the file's last byte is released only
// once the download is verified and published, so a response that covers the end of the file —
// every whole-file response — is cut rather than completed when the sha256 does not match. A
// range that ends before the last byte cannot wait for the whole file's hash without waiting for
// the whole download; it completes with the bytes as written.

import { open, type FileHandle } from 'node:fs/promises';
import type { ServeRequest as IncomingMessage, ServeResponse as ServerResponse } from './h1/response.ts';
import type { MessagePort } from 'node:worker_threads';
import type { MainToWorker, MissAnswer, WorkerToMain } from './worker-messages.ts';
import type { FileEntry } from '../store/types.ts';
import { pumpRange, type BodyHooks } from './disk-reader.ts';
import { sendError } from './errors.ts';
import { limiterFor, type Exchange } from './exchange.ts';
import { multipartOf, pumpMultipart } from './send-body.ts';
import { planResponse, serveEntry } from './serve-file.ts';

/** The download will not deliver the bytes a response is waiting for (reset, failed). */
export class MissAborted extends Error {}

/** One download as this worker sees it, shared by all of the worker's responses for the file. */
class MissFile {
  readonly entry: FileEntry;
  path = '';
  written = 0;
  /** bumped by every reset: bytes read under an older generation are void */
  gen = 0;
  state: 'filling' | 'published' | 'failed' = 'filling';
  #fh: Promise<FileHandle> | undefined;
  #refs = 0;
  #waiters: (() => void)[] = [];

  constructor(entry: FileEntry) {
    this.entry = entry;
  }

  /** Exclusive end of what may be read now: written bytes, but the last one only once published. */
  limit(): number {
    return this.state === 'published' ? this.entry.bytes : Math.min(this.written, this.entry.bytes - 1);
  }

  /** call `cb` at the next change (progress, reset, end) */
  wait(cb: () => void): void {
    this.#waiters.push(cb);
  }

  progress(path: string, written: number): void {
    if (this.state !== 'filling') return;
    if (path !== this.path && this.path !== '') {
      // the interface keeps one partial per download; a new one would not be the inode we opened
      this.end(false);
      return;
    }
    this.path = path;
    this.written = written;
    this.#wake();
  }

  reset(): void {
    this.gen++;
    this.written = 0;
    this.#wake();
  }

  end(ok: boolean): void {
    if (this.state !== 'filling') return;
    this.state = ok ? 'published' : 'failed';
    if (ok) this.written = this.entry.bytes;
    this.#wake();
    this.#closeIfIdle();
  }

  /** The partial's descriptor, opened once (as soon as its path is known); pair with release(). */
  async acquire(): Promise<FileHandle> {
    this.#refs++;
    while (this.path === '' && this.state === 'filling') await new Promise<void>((r) => this.wait(r));
    if (this.path === '') throw new MissAborted('the download ended before it wrote anything');
    this.#fh ??= open(this.path, 'r');
    return this.#fh;
  }

  /** resolves once the download has ended (published or failed) */
  async ended(): Promise<void> {
    while (this.state === 'filling') await new Promise<void>((r) => this.wait(r));
  }

  release(): void {
    this.#refs--;
    this.#closeIfIdle();
  }

  #closeIfIdle(): void {
    if (this.#refs > 0 || this.state === 'filling' || this.#fh === undefined) return;
    const fh = this.#fh;
    this.#fh = undefined;
    fh.then((h) => h.close()).catch(() => {});
  }

  #wake(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const cb of w) cb();
  }
}

/** Body hooks for one response: read only bytes written, in one generation of the partial. */
function readerHooks(mf: MissFile): BodyHooks {
  let gen = mf.gen;
  let started = false;
  const now = (pos: number): number | undefined => {
    if (mf.state === 'failed') throw new MissAborted('the download failed');
    if (gen !== mf.gen) {
      if (started) throw new MissAborted('the download was reset');
      gen = mf.gen; // nothing sent yet: simply follow the new attempt
    }
    const limit = mf.limit();
    if (limit <= pos) return undefined;
    started = true;
    return limit;
  };
  return {
    readable(pos) {
      const limit = now(pos);
      if (limit !== undefined) return limit;
      return new Promise<number>((resolve, reject) => {
        const retry = (): void => {
          try {
            const l = now(pos);
            if (l === undefined) mf.wait(retry);
            else resolve(l);
          } catch (e) {
            reject(e);
          }
        };
        mf.wait(retry);
      });
    },
  };
}

export class MissClient {
  #port: MessagePort;
  #nextId = 0;
  #asks = new Map<number, (a: MissAnswer) => void>();
  #files = new Map<string, MissFile>();

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** downloads this worker follows now (tests, status) */
  get following(): number {
    return this.#files.size;
  }

  serve(x: Exchange, req: IncomingMessage, res: ServerResponse, fileId: string): void {
    const id = ++this.#nextId;
    this.#asks.set(id, (a) => this.#answered(x, req, res, fileId, a));
    this.#port.postMessage({ type: 'miss:ask', id, fileId } satisfies WorkerToMain);
  }

  /** Apply a 'miss:*' message from the main thread; false if it is not one. */
  handle(m: MainToWorker): boolean {
    switch (m.type) {
      case 'miss:answer': {
        const cb = this.#asks.get(m.id);
        this.#asks.delete(m.id);
        cb?.(m.answer);
        return true;
      }
      case 'miss:progress':
        this.#files.get(m.fileId)?.progress(m.path, m.written);
        return true;
      case 'miss:reset':
        this.#files.get(m.fileId)?.reset();
        return true;
      case 'miss:end': {
        const mf = this.#files.get(m.fileId);
        this.#files.delete(m.fileId);
        mf?.end(m.ok);
        return true;
      }
    }
    return false;
  }

  #answered(x: Exchange, req: IncomingMessage, res: ServerResponse, fileId: string, a: MissAnswer): void {
    if (res.destroyed) return; // the viewer left while we asked
    const ctx = x.ctx;
    if (a.kind === 'held') {
      const file = ctx.view.get(fileId);
      if (file !== undefined) return serveEntry(ctx, x, req, res, file);
    }
    if (a.kind !== 'filling') {
      ctx.metrics.miss('not_wanted');
      return sendError(res, 404, 'not_found', 'no such file on this appliance');
    }
    let mf = this.#files.get(fileId);
    if (mf === undefined || mf.state !== 'filling') {
      mf = new MissFile(a.file);
      this.#files.set(fileId, mf);
    }
    mf.progress(a.path, a.written);
    if (mf.state === 'failed') this.#files.delete(fileId);
    streamMiss(x, req, res, mf);
  }
}

/** Answer one viewer from a download in progress. */
function streamMiss(x: Exchange, req: IncomingMessage, res: ServerResponse, mf: MissFile): void {
  const ctx = x.ctx;
  let failed = false;
  res.once('close', () => {
    if (failed) ctx.metrics.miss('failed');
    else if (res.writableFinished) ctx.metrics.miss('filled_through');
    // else the viewer went away: neither the fill's success nor its failure
  });
  const p = planResponse(ctx, req, res, mf.entry);
  if (p === undefined) return; // 304 or 416, from the manifest's validators
  x.tier = 'fill';
  x.fileId = mf.entry.fileId;
  if (p.head) {
    res.writeHead(p.multi ? 206 : p.status, p.multi ? multipartOf(mf.entry, p.ranges).headers : p.headers);
    res.end();
    return;
  }
  x.hooks = readerHooks(mf);
  const limiter = limiterFor(ctx, mf.entry);
  void (async () => {
    let fh: FileHandle;
    try {
      fh = await mf.acquire();
    } catch {
      mf.release();
      // the partial was renamed into the store before this worker opened it: a hit once the
      // store's entry (which comes before the end of the download) has arrived
      await mf.ended();
      const file = mf.state === 'published' ? ctx.view.get(mf.entry.fileId) : undefined;
      if (file !== undefined && !res.destroyed) {
        x.hooks = undefined;
        return serveEntry(ctx, x, req, res, file);
      }
      failed = true;
      return abort(res);
    }
    try {
      if (res.destroyed) return;
      if (!p.multi) {
        const begin = (): void => void res.writeHead(p.status, p.headers);
        x.bytes = await pumpRange(fh, p.start, p.end, res, limiter, begin, x.hooks);
        if (!res.headersSent) begin();
        res.end();
      } else {
        await pumpMultipart(fh, multipartOf(mf.entry, p.ranges), p.ranges, x, limiter);
      }
    } catch {
      failed = true;
      abort(res);
    } finally {
      mf.release();
    }
  })();
}

/** Nothing sent yet: a clean 503 so the player fails over at once; else cut the connection. */
function abort(res: ServerResponse): void {
  if (!res.headersSent && !res.destroyed) {
    sendError(res, 503, 'fill_failed', 'the file could not be fetched; try another appliance');
  } else {
    res.destroy();
  }
}
