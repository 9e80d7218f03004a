// One connection of the serving port: reads request heads, answers one request at a time in order
// (pipelined requests wait in the read buffer, so responses can never interleave or overtake), and
// decides when the connection ends:
//
// - keep-alive until the client says close, maxRequestsPerSocket is reached or the server drains;
// - a client that half-closes (FIN) right after its requests still gets every answer, then the
//   socket closes — as nginx does;
// - a malformed request is answered (JSON 400/431/505, Connection: close) only after the
//   responses before it have been written whole;
// - no further reading while the socket's write buffer is full, nor while a response is running
//   and a head's worth of pipelined bytes is already waiting.
//
// Timeouts are checked by the server's sweep (server.ts) from `state` and `since`, so a request
// costs no timer: a head must arrive within headersTimeoutMs of its first byte (else 408), an
// idle keep-alive connection closes after keepAliveTimeoutMs, and a response during which no byte
// moves either way for socketIdleTimeoutMs (a stalled reader) is cut. node's socket.setTimeout
// would do the last, but refreshes a timer on every read and write: 4–7 µs of CPU per small
// request in an A/B of the bare layer (25 against 29–33 µs, load 14).

import type { Socket } from 'node:net';
import { errorReply } from './error-reply.ts';
import { parseHead, type RequestHead } from './parse-head.ts';
import { ServeRequest, ServeResponse, type ResponseOwner } from './response.ts';

export interface ConnectionLimits {
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0 = unlimited */
  maxRequestsPerSocket: number;
  maxHeaderSize: number;
  socketIdleTimeoutMs: number;
}

export type RequestHandler = (req: ServeRequest, res: ServeResponse) => void;

/** What a connection reads from its server. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  readonly handler: RequestHandler;
  /** the server is draining: answer what is in flight, keep nothing alive */
  readonly closing: boolean;
  /** "Connection: keep-alive\r\nKeep-Alive: timeout=N\r\n" */
  readonly keepAliveLines: string;
  forget(c: Connection): void;
}

/** wait: no bytes of the next request yet; head: part of a head; busy: a response is running */
type State = 'wait' | 'head' | 'busy' | 'done';

export class Connection implements ResponseOwner {
  readonly socket: Socket;
  state: State = 'wait';
  /** when the current state began (Date.now()) */
  since = Date.now();
  requests = 0;
  #host: ConnectionHost;
  #buf: Buffer | undefined;
  #current: ServeResponse | undefined;
  #readEnded = false;
  #draining = false;
  #paused = false;
  /** bytes read + written when the sweep last saw them change, and when */
  #moved = -1;
  #movedAt = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', noop);
    socket.on('close', () => this.#onClose());
  }

  /**
   * No request in progress and no answer still leaving (what server.closeIdleConnections
   * closes): a response ends for the handler when its last bytes are handed to the socket, and a
   * large body handed over at once (a RAM-tier file) may then take a slow reader far longer than
   * the keep-alive timeout to drain.
   */
  get idle(): boolean {
    return this.state === 'wait' && this.socket.writableLength === 0;
  }

  /** The sweep: enforce the head and keep-alive timeouts. */
  check(now: number): void {
    const { headersTimeoutMs, keepAliveTimeoutMs, socketIdleTimeoutMs } = this.#host.limits;
    const leaving = (this.state === 'wait' || this.state === 'done') && this.socket.writableLength > 0;
    if (this.state === 'busy' || leaving) {
      // an answer is being written: only a stall (nothing moving either way) ends it, and the
      // keep-alive wait (or, our side closed, the wait for the client's) begins once its bytes
      // are all out
      if (leaving) this.since = now;
      const moved = this.socket.bytesRead + this.socket.bytesWritten;
      if (moved !== this.#moved) {
        this.#moved = moved;
        this.#movedAt = now;
      } else if (now - this.#movedAt > socketIdleTimeoutMs) {
        this.close();
      }
    } else if (this.state === 'head' && now - this.since > headersTimeoutMs) {
      this.#fail(errorReply(408, 'request_timeout', 'the request did not arrive in time'));
    } else if (this.state === 'wait' && now - this.since > (this.requests === 0 ? headersTimeoutMs : keepAliveTimeoutMs)) {
      this.close();
    } else if (this.state === 'done' && now - this.since > keepAliveTimeoutMs) {
      // our side is closed (last answer, or a refusal); what the client still sends has been read
      // and dropped so the answer is not lost to a reset — but only for so long
      this.socket.destroy();
    }
  }

  /** Close now (idle, or the server is going away). */
  close(): void {
    this.state = 'done';
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.state === 'done') return;
    this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.state === 'busy') {
      // pipelined: keep at most about one head waiting while the response runs
      if (this.#buf.length > this.#host.limits.maxHeaderSize) this.#pause();
      return;
    }
    this.#next();
  }

  /** Parse and answer what the buffer holds, one request at a time. */
  #next(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#current === undefined && this.state !== 'done') {
        const buf = this.#buf;
        if (buf === undefined) {
          if (this.#readEnded) this.#end();
          else if (this.state !== 'wait') {
            this.state = 'wait';
            this.since = Date.now();
          }
          break;
        }
        if (this.socket.writableNeedDrain) {
          // the client is not reading its answers: stop taking requests until it does
          this.#pause();
          break;
        }
        const r = parseHead(buf, this.#host.limits.maxHeaderSize);
        if (r.kind === 'incomplete') {
          if (this.#readEnded) this.#end(); // a partial request and then FIN: nothing to answer
          else if (this.state !== 'head') {
            this.state = 'head';
            this.since = Date.now();
          }
          break;
        }
        if (r.kind === 'error') {
          this.#fail(errorReply(r.status, r.code, r.message));
          break;
        }
        this.#buf = r.consumed < buf.length ? buf.subarray(r.consumed) : undefined;
        this.#dispatch(r.head);
      }
    } finally {
      this.#draining = false;
    }
    if (this.#paused && this.state !== 'busy' && !this.socket.writableNeedDrain) this.#resume();
  }

  #dispatch(head: RequestHead): void {
    this.requests++;
    const max = this.#host.limits.maxRequestsPerSocket;
    const keepAlive = head.keepAlive && !this.#host.closing && (max === 0 || this.requests < max);
    const req = new ServeRequest(head, this.socket);
    const res = new ServeResponse(this, req, keepAlive, this.#host.keepAliveLines);
    this.#current = res;
    this.state = 'busy';
    this.#host.handler(req, res);
  }

  /** ResponseOwner: the response wrote its last bytes; the next request may start. */
  ended(res: ServeResponse, keepAlive: boolean): void {
    if (res !== this.#current) return;
    this.#current = undefined;
    if (!keepAlive) {
      this.#end();
      return;
    }
    this.state = 'wait';
    this.since = Date.now();
    if (this.#buf !== undefined || this.#readEnded || this.#paused) this.#next();
  }

  /** Answer a bad request (after every earlier response, which are whole by now) and close. */
  #fail(reply: Buffer): void {
    this.state = 'done';
    this.since = Date.now();
    this.#buf = undefined;
    if (this.socket.writable) this.socket.end(reply);
    else this.socket.destroy();
  }

  /** End the connection once what is written has gone out. */
  #end(): void {
    this.state = 'done';
    this.since = Date.now();
    this.#buf = undefined;
    this.socket.end();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.socket.pause();
  }

  #resume(): void {
    this.#paused = false;
    this.socket.resume();
  }

  #onEnd(): void {
    this.#readEnded = true;
    if (this.state === 'wait' || this.state === 'head') this.#next();
  }

  #onDrain(): void {
    this.#current?.emitDrain();
    if (this.#paused && this.#current === undefined) this.#next();
  }

  #onClose(): void {
    this.state = 'done';
    this.#buf = undefined;
    const res = this.#current;
    this.#current = undefined;
    res?.socketClosed();
    this.#host.forget(this);
  }
}

function noop(): void {}
