// The request and response objects the serving code sees: the part of node's IncomingMessage and
// ServerResponse that appliance/src/http uses, and nothing else. A response head is one string,
// built once from the flat header array, and goes out in the same socket write as the first body
// bytes (one buffer when the body is small), so a small range is one write(2).

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from './parse-head.ts';

export class ServeRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly headers: Record<string, string | undefined>;
  readonly socket: Socket;
  constructor(head: RequestHead, socket: Socket) {
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.socket = socket;
  }
}

/** What a response needs from its connection. */
export interface ResponseOwner {
  /** the response has written its last bytes (they may still be in the socket's buffer) */
  ended(res: ServeResponse, keepAlive: boolean): void;
}

// `this` is the response (as with node's emitters); `any` lets a listener type it more narrowly
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (this: any) => void;
type EventName = 'close' | 'drain' | 'finish';

/**
 * Bodies up to this size are copied behind their head into one buffer: one write, one syscall.
 * So end(body) of a response whose head has not gone out yet is done with such a body when it
 * returns, and the caller may reuse it (send-body.ts reads small disk ranges into one buffer).
 */
export const CONCAT_MAX_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/** the largest TLS record's plaintext: a TLS head goes out with the body's first bytes up to it */
const TLS_RECORD_BYTES = 16 * 1024;

/**
 * The buffer a small answer is assembled in, one per thread: write(2) copies it into the kernel,
 * so a write that went out whole at once (nothing queued before or after it on a plain socket)
 * leaves it free for the next answer — instead of a fresh 2–4 KiB slice per response, a new 8 KiB
 * pool slab every few responses and the GC work behind them. A write that had to queue keeps the
 * buffer (libuv sends from it later) and a fresh one takes its place; TLS sockets are left out
 * (their writes may wait inside the TLS layer during a handshake).
 */
const SCRATCH_BYTES = CONCAT_MAX_BYTES + 8 * 1024;
let scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let l = statusLines.get(status);
  if (l === undefined) {
    l = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 128) statusLines.set(status, l);
  }
  return l;
}

// Date: once per second, as every server does
let dateSecond = -1;
let dateLine = '';
export function dateHeaderLine(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * Header lines already formatted as "Name: value\r\n…": a file's fixed headers are built once
 * (file-headers.ts) and a range only appends its Content-Length and Content-Range, instead of a
 * header array copied and formatted again on every request.
 */
export class HeaderBlock {
  readonly text: string;
  /** the block has a Content-Length line */
  readonly hasLength: boolean;
  constructor(text: string, hasLength: boolean) {
    this.text = text;
    this.hasLength = hasLength;
  }
}

/** flat [name, value, name, value…] (names as they should appear on the wire), or a block */
export type ResponseHeaders = readonly string[] | HeaderBlock;

/** The wire form of flat [name, value, …] headers, as writeHead writes them. */
export function formatHeaders(headers: readonly string[]): string {
  let text = '';
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return text;
}

export class ServeResponse {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** every byte of the response has been handed to the kernel */
  writableFinished = false;
  readonly req: ServeRequest;
  readonly socket: Socket;
  /** told once when the response closes, before the 'close' listeners (the serving path's
   *  accounting: one field instead of a listener table per response) */
  closeHook: { closed(): void } | undefined = undefined;
  #owner: ResponseOwner;
  /** "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n" or "Connection: close\r\n" */
  #keepAliveLines: string;
  #keepAlive: boolean;
  /** the head, until it goes out with the first body bytes */
  #head: string | undefined;
  #noBody: boolean;
  #closed = false;
  #listeners: Partial<Record<EventName, Listener[]>> | undefined;

  constructor(owner: ResponseOwner, req: ServeRequest, keepAlive: boolean, keepAliveLines: string) {
    this.#owner = owner;
    this.req = req;
    this.socket = req.socket;
    this.#keepAlive = keepAlive;
    this.#keepAliveLines = keepAliveLines;
    this.#noBody = req.method === 'HEAD';
  }

  get destroyed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  writeHead(status: number, headers?: ResponseHeaders): this {
    if (this.headersSent) throw new Error('writeHead: headers already sent');
    this.statusCode = status;
    this.headersSent = true;
    let head = statusLine(status);
    let length = false;
    if (headers instanceof HeaderBlock) {
      head += headers.text;
      length = headers.hasLength;
    } else if (headers !== undefined) {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i];
        if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
        head += `${name}: ${headers[i + 1]}\r\n`;
      }
    }
    if (status === 204 || status === 304 || status < 200) this.#noBody = true;
    // no length and a body: the end of the connection frames it (every caller sends a length)
    else if (!length && !this.#noBody) this.#keepAlive = false;
    head += dateHeaderLine();
    head += this.#keepAlive ? this.#keepAliveLines : 'Connection: close\r\n';
    this.#head = head + '\r\n';
    return this;
  }

  write(chunk: Buffer | string, cb?: (err?: Error | null) => void): boolean {
    if (this.writableEnded) throw new Error('write after end');
    if (!this.headersSent) this.writeHead(this.statusCode);
    return this.#send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, cb);
  }

  end(chunk?: Buffer | string, cb?: () => void): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableEnded = true;
    if (cb !== undefined) this.once('finish', cb);
    const body = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#head !== undefined || (body !== undefined && body.length > 0 && !this.#noBody)) this.#send(body ?? EMPTY);
    // Written whole already (a small answer, usually): finished on the next tick, with every
    // other response that ended in this one, instead of a write callback per response (a closure,
    // and node's nextTick plus its tick record for each distinct callback). Else once the bytes
    // queued before this point have gone out.
    const socket = this.socket;
    if (socket.writableLength === 0) ServeResponse.#finishSoon(this);
    else socket.write(EMPTY, (err?: Error | null) => this.#finished(err));
    this.#owner.ended(this, this.#keepAlive);
    return this;
  }

  /** responses whose last bytes are out, to be finished on the next tick */
  static #finishing: ServeResponse[] = [];

  static #finishSoon(res: ServeResponse): void {
    const list = ServeResponse.#finishing;
    if (list.length === 0) process.nextTick(ServeResponse.#finishAll);
    list.push(res);
  }

  static #finishAll(this: void): void {
    const list = ServeResponse.#finishing;
    // a fresh list first: a response ended by a finish listener is finished on the next tick
    ServeResponse.#finishing = [];
    for (const res of list) res.#finished(null);
  }

  /** Cut the connection (a body that cannot be completed). */
  destroy(): void {
    this.socket.destroy();
    this.#close();
  }

  on(event: EventName, fn: Listener): this {
    ((this.#listeners ??= {})[event] ??= []).push(fn);
    return this;
  }

  once(event: EventName, fn: Listener): this {
    const wrapped: Listener & { inner?: Listener } = function (this: ServeResponse) {
      this.off(event, wrapped);
      fn.call(this);
    };
    wrapped.inner = fn;
    return this.on(event, wrapped);
  }

  off(event: EventName, fn: Listener): this {
    const l = this.#listeners?.[event];
    if (l === undefined) return this;
    const i = l.findIndex((f) => f === fn || (f as { inner?: Listener }).inner === fn);
    if (i >= 0) l.splice(i, 1);
    return this;
  }

  /** the connection: its socket drained */
  emitDrain(): void {
    if (!this.#closed) this.#emit('drain');
  }

  /** the connection: its socket closed (a response still open closes with it) */
  socketClosed(): void {
    this.#close();
  }

  #emit(event: EventName): void {
    const l = this.#listeners?.[event];
    if (l === undefined || l.length === 0) return;
    for (const fn of l.length === 1 ? l : l.slice()) fn.call(this);
  }

  #send(body: Buffer, cb?: (err?: Error | null) => void): boolean {
    const socket = this.socket;
    if (this.#noBody) body = EMPTY;
    const head = this.#head;
    if (head === undefined) {
      if (body.length === 0) {
        if (cb !== undefined) process.nextTick(cb);
        return !socket.writableNeedDrain;
      }
      return socket.write(body, cb);
    }
    this.#head = undefined;
    if (body.length <= CONCAT_MAX_BYTES) {
      const n = head.length + body.length;
      const reuse = n <= SCRATCH_BYTES && socket.writableLength === 0 && (socket as { encrypted?: boolean }).encrypted !== true;
      const out = reuse ? scratch.subarray(0, n) : Buffer.allocUnsafe(n);
      out.write(head, 0, 'latin1');
      // fill() copies with one native memcpy; copy()/set() from a RAM-tier body (a view of a
      // SharedArrayBuffer) go through V8's relaxed-atomic byte copy: ~1.5 µs for 2 KiB, not 0.15
      if (body.length > 0) out.fill(body, head.length);
      const more = socket.write(out, cb);
      // a write that could not go out whole at once keeps the buffer until it has
      if (reuse && socket.writableLength !== 0) scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
      return more;
    }
    if ((socket as { encrypted?: boolean }).encrypted === true) {
      // TLS: never a gathered write. node's TLS layer copies a writev of head and body whole into
      // one fresh buffer before SSL_write: for 2 s segments that copy was a
      // quarter of the appliance's CPU for HTTPS viewers (perf, bench/serve/viewers-cost.ts). The
      // head goes out with the body's first bytes (one full record), then the body as it is: two
      // single-buffer writes, the second queued behind the first (a TLS write always completes
      // asynchronously), which node's TLS layer encrypts from the caller's buffer.
      const first = Math.max(0, Math.min(body.length, TLS_RECORD_BYTES - head.length));
      const out = Buffer.allocUnsafe(head.length + first);
      out.write(head, 0, 'latin1');
      if (first > 0) out.fill(body.subarray(0, first), head.length);
      socket.write(out);
      return socket.write(body.subarray(first), cb);
    }
    socket.cork();
    socket.write(head, 'latin1');
    const more = socket.write(body, cb);
    socket.uncork();
    return more;
  }

  #finished(err?: Error | null): void {
    if (this.#closed) return;
    if (err == null && !this.socket.destroyed) {
      this.writableFinished = true;
      this.#emit('finish');
    }
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const hook = this.closeHook;
    if (hook !== undefined) {
      this.closeHook = undefined;
      hook.closed();
    }
    this.#emit('close');
  }
}
