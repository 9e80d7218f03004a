// A GET through undici's dispatch API, read as a queue of body chunks (chunk-queue.ts): for
// https sources, and for a source whose body is not a plain Content-Length one (bulk-get.ts reads
// every other). undici's `request()` body (a Readable read with `for await`) costs about twice the
// CPU per byte of a raw dispatch handler on loopback (measured informally: 108 vs 42–55 MB/s on a
// loaded 2-core box), so the handler queues chunks and the reader takes them in a tight loop.

import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { ChunkQueue } from './chunk-queue.ts';

const HIGH_WATER = 4 << 20;
const LOW_WATER = 1 << 20;

export interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
}

export interface ResponseOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  /** the error a stop (signal aborted) surfaces as */
  stopped: () => Error;
}

/** One source response, however it is read (undici here, a plain socket in bulk-get.ts). */
export interface SourceResponse {
  /** Status and headers (rejects if the request failed before them). */
  head(): Promise<ResponseHead>;
  /** The next body chunk, or null at the end of the body; throws the request's error. */
  next(): Promise<Buffer | null>;
  /** next() would answer at once (a chunk, the end or an error is there) */
  readonly ready: boolean;
  /** resolves once `ready` (takes nothing) */
  whenReady(): Promise<void>;
  /** Stop the transfer (the connection is dropped); later next() calls throw `reason`. */
  abort(reason: Error): void;
  /** Detach from the signal (call once the response is finished with). */
  close(): void;
  /** chunks from next() that are written now: their memory may be read into again */
  recycle?(chunks: readonly Uint8Array[]): void;
}

/** What both readers share: the body queue, the head as a promise, stopping on the signal. */
export abstract class QueuedResponse implements SourceResponse {
  protected readonly body: ChunkQueue;
  #started: Promise<ResponseHead>;
  #onStart!: (h: ResponseHead) => void;
  #onStartError!: (e: Error) => void;
  #signal: AbortSignal;
  #onAbort: () => void;

  constructor(o: ResponseOptions, highWater: number, lowWater: number) {
    this.body = new ChunkQueue(highWater, lowWater);
    this.#started = new Promise((resolve, reject) => {
      this.#onStart = resolve;
      this.#onStartError = reject;
    });
    this.#started.catch(() => {});
    this.#signal = o.signal;
    this.#onAbort = () => this.abort(o.stopped());
    o.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Drop the transport (the connection) under the response. */
  protected abstract drop(reason: Error): void;

  protected started(head: ResponseHead): void {
    this.#onStart(head);
  }

  /** The first error wins (none after the body's end); head() rejects with it if still pending. */
  protected fail(err: Error): void {
    if (this.body.ended) return;
    this.body.fail(err);
    this.#onStartError(err);
  }

  head(): Promise<ResponseHead> {
    return this.#started;
  }

  get ready(): boolean {
    return this.body.ready;
  }

  whenReady(): Promise<void> {
    return this.body.whenReady();
  }

  next(): Promise<Buffer | null> {
    return this.body.next();
  }

  abort(reason: Error): void {
    this.fail(reason);
    this.drop(reason);
  }

  close(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
    if (!this.body.ended && !this.body.failed) this.abort(new Error('response closed before its end'));
  }
}

export class ResponseStream extends QueuedResponse {
  #controller: Dispatcher.DispatchController | null = null;

  constructor(dispatcher: Dispatcher, url: URL, o: ResponseOptions) {
    super(o, HIGH_WATER, LOW_WATER);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: (c) => {
        this.#controller = c;
        this.body.flow = c;
        if (o.signal.aborted) c.abort(o.stopped());
      },
      onResponseStart: (_c, status, headers) => this.started({ status, headers }),
      onResponseData: (_c, chunk) => this.body.push(chunk),
      onResponseEnd: () => this.body.end(),
      onResponseError: (_c, err) => this.fail(err),
    };
    try {
      dispatcher.dispatch({
        origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: o.headers,
        headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs,
      }, handler);
    } catch (err) {
      this.fail(err as Error); // e.g. a closed dispatcher: surfaces as this try's failure
    }
  }

  protected drop(reason: Error): void {
    const ctl = this.#controller;
    if (ctl && !ctl.aborted) ctl.abort(reason);
  }
}
