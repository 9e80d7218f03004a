// A GET of a file body on a plain socket (http: sources), read straight into large buffers.
// Fill moves whole files: on the 2-core bench box undici's path (64 KiB socket reads, a fresh
// Buffer per read, its wasm parser) cost about 5 CPU-s per GiB before anything was hashed or
// written, where reading the same bodies into 4 MiB slabs with `onread` — one read syscall per
// ~1 MiB, no allocation per read, nothing parsed after the head — cost about 2 with hashing and
// writing included (bench/fill, /tmp harness; see the fill README). So this reads only what
// fill needs: one request per connection (`Connection: close`), an HTTP/1.x head, and a body
// framed by Content-Length (or by the close); the body of an answer other than 2xx is not read.
// A chunked 2xx body is refused with NotBulk before a body byte is taken, and the caller asks
// again through undici (response-stream.ts).
//
// Chunks handed on are views into the slabs. A slab is read into from its start to (nearly) its
// end once; the reader hands the chunks back with recycle() once they are written, and a slab
// whose chunks are all back goes to a pool shared by every download, to be read into again.
// Fresh slabs instead (collected by the GC) cost a page fault per 4 KiB on first touch: the
// largest kernel cost left in a perf profile of a fill after the copies themselves.
// The slabs come from the store's shared, page-aligned pool when it has one free (ordinary memory
// otherwise), and once the head is read each read lands at the slab offset that matches its file
// offset within a 4 KiB block (`bodyAt`): so the store hashes them on its hash thread and writes
// them past the page cache without copying them (store/stage-writer.ts).

import { connect, type Socket } from 'node:net';
import { giveSharedSlab, isShared, SHARED_SLAB, takeSharedSlab } from '../store/shared-slabs.ts';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { QueuedResponse, type ResponseHead, type ResponseOptions } from './response-stream.ts';

const SLAB = SHARED_SLAB;
const BLOCK = 4096;
const MIN_READ = 256 << 10;
const MAX_HEAD = 64 << 10;
const HIGH_WATER = 8 << 20;
const LOW_WATER = 2 << 20;
/** slabs kept for reuse (all downloads): a few downloads' queues, batches being hashed and written */
const SPARE_SLABS = 12;
const spare: Slab[] = [];

function takeSlab(): Slab {
  const shared = takeSharedSlab();
  if (shared !== undefined) return { buf: shared, out: 0 };
  return spare.pop() ?? { buf: Buffer.allocUnsafeSlow(SLAB), out: 0 };
}

function giveSlab(slab: Slab): void {
  if (isShared(slab.buf)) giveSharedSlab(slab.buf);
  else if (spare.length < SPARE_SLABS) spare.push(slab);
}

/** Which slab a chunk is in: the shared slabs are all views of one memory. */
function slabKey(c: Uint8Array): unknown {
  return isShared(c) ? Math.floor(c.byteOffset / SLAB) : c.buffer;
}

interface Slab {
  buf: Buffer;
  /** chunks of it handed on and not recycled yet */
  out: number;
}

/** The response is framed in a way this reader does not read (chunked): ask through undici. */
export class NotBulk extends Error {}

interface Framing {
  /** body bytes still to come; null: until the connection closes */
  remaining: number | null;
}

export class BulkGet extends QueuedResponse {
  #socket: Socket;
  #slab: Slab = takeSlab();
  #off = 0;
  /** this response's slabs with chunks out, by slabKey */
  #slabs = new Map<unknown, Slab>();
  /** file offset of the next body byte read (null until the head is read) */
  #filePos: number | null = null;
  #bodyAt: number;
  #closed = false;
  /** bytes of the head read so far (a copy; the head is small and usually in the first read) */
  #headBytes: Buffer | null = Buffer.alloc(0);
  #framing: Framing | null = null;
  #timeoutMs: number;

  /** `bodyAt`: the file offset of the first body byte (the Range asked for) */
  constructor(url: URL, o: ResponseOptions, bodyAt = 0) {
    super(o, HIGH_WATER, LOW_WATER);
    this.#timeoutMs = o.timeoutMs;
    this.#bodyAt = bodyAt;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const s = connect({
      host, port: Number(url.port || 80),
      onread: { buffer: () => this.#room(), callback: (n: number, buf: Uint8Array) => this.#read(buf as Buffer, n) },
    });
    this.#socket = s;
    this.body.flow = {
      pause: () => {
        s.setTimeout(0); // held up by us (disk, rate limit), not by the source
        s.pause();
      },
      resume: () => {
        s.setTimeout(this.#timeoutMs);
        s.resume();
      },
      get paused() {
        return s.isPaused();
      },
    };
    s.setNoDelay(true);
    s.setTimeout(o.timeoutMs);
    s.on('timeout', () => {
      this.abort(Object.assign(new Error(`${url.origin}: nothing received for ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    s.on('error', (err) => this.fail(err));
    s.on('close', () => this.#onClose());
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: close'];
    for (const [k, v] of Object.entries(o.headers)) lines.push(`${k}: ${v}`);
    // written, not ended: a server may take the client's FIN for a viewer who left
    s.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    if (o.signal.aborted) this.abort(o.stopped());
  }

  /** where the next read lands: the rest of the slab, or a new one */
  #room(): Buffer {
    // in a shared slab, the read lands where its file offset falls within a block
    const align = this.#filePos !== null && isShared(this.#slab.buf);
    const skip = align ? (((this.#filePos! - this.#off) % BLOCK) + BLOCK) % BLOCK : 0;
    if (SLAB - this.#off - skip < MIN_READ) {
      const old = this.#slab;
      if (old.out === 0) giveSlab(old);
      this.#slab = takeSlab();
      this.#off = this.#filePos !== null && isShared(this.#slab.buf) ? this.#filePos % BLOCK : 0;
    } else {
      this.#off += skip;
    }
    return this.#slab.buf.subarray(this.#off);
  }

  /** These chunks (from next()) are written: their slabs may be read into again. */
  recycle(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) {
      const key = slabKey(c);
      const slab = this.#slabs.get(key);
      if (slab === undefined) continue;
      if (--slab.out > 0) continue;
      this.#slabs.delete(key);
      if (slab !== this.#slab || this.#closed) giveSlab(slab);
    }
  }

  /** onread's callback: `n` bytes landed at the start of `buf` (true: keep reading) */
  #read(buf: Buffer, n: number): boolean {
    this.#off += n;
    let chunk = buf.subarray(0, n);
    if (this.#headBytes !== null) {
      const rest = this.#head(chunk);
      if (rest === undefined) return true;
      chunk = rest;
    }
    const f = this.#framing!;
    if (f.remaining !== null) {
      if (chunk.byteLength > f.remaining) chunk = chunk.subarray(0, f.remaining); // nothing may follow
      f.remaining -= chunk.byteLength;
    }
    if (chunk.byteLength > 0) {
      const key = slabKey(chunk);
      if (key === slabKey(this.#slab.buf)) {
        this.#slab.out++;
        this.#slabs.set(key, this.#slab);
      }
      this.#filePos! += chunk.byteLength;
      this.body.push(chunk);
    }
    if (f.remaining === 0) this.#finish();
    return true;
  }

  /** Take head bytes; once the head is complete, the body bytes that came with it (else undefined). */
  #head(chunk: Buffer): Buffer | undefined {
    let bytes = Buffer.concat([this.#headBytes!, chunk]);
    for (;;) {
      const end = bytes.indexOf('\r\n\r\n', 0, 'latin1');
      if (end < 0) {
        if (bytes.byteLength > MAX_HEAD) this.abort(new Error(`response head longer than ${MAX_HEAD} bytes`));
        else this.#headBytes = bytes;
        return undefined;
      }
      const head = parseHead(bytes.subarray(0, end).toString('latin1'));
      if (head === null) {
        this.abort(new Error('not an HTTP/1.x response'));
        return undefined;
      }
      bytes = bytes.subarray(end + 4);
      if (head.status < 200) continue; // an interim response (100, 103): the real one follows
      this.#headBytes = null;
      const te = head.headers['transfer-encoding'];
      const chunked = te !== undefined && String(te).toLowerCase() !== 'identity';
      const ok = head.status >= 200 && head.status < 300;
      if (chunked && ok) {
        this.abort(new NotBulk(`transfer-encoding ${String(te)}`));
        return undefined;
      }
      const cl = head.headers['content-length'];
      if (cl !== undefined && !/^\d+$/.test(String(cl))) {
        this.abort(new Error(`bad content-length ${String(cl)}`));
        return undefined;
      }
      // an error's body is never read (the download gives the try up on the status)
      const noBody = !ok || head.status === 204 || head.status === 304;
      this.#framing = { remaining: noBody ? 0 : cl !== undefined ? Number(cl) : null };
      this.#filePos = this.#bodyAt;
      this.started(head);
      return bytes;
    }
  }

  #finish(): void {
    this.body.end();
    this.#socket.destroy();
  }

  #onClose(): void {
    const f = this.#framing;
    if (f === null) return this.fail(Object.assign(new Error('connection closed before the response head'), { code: 'ECONNRESET' }));
    if (f.remaining === null) return this.body.end(); // framed by the close
    if (f.remaining > 0) this.fail(Object.assign(new Error(`connection closed with ${f.remaining} body bytes to come`), { code: 'ECONNRESET' }));
  }

  protected drop(): void {
    this.#socket.destroy();
  }

  close(): void {
    super.close();
    this.#socket.destroy();
    if (this.#closed) return;
    this.#closed = true;
    // nothing more is read into the current slab: back to the pool now, or once its chunks are
    if (this.#slab.out === 0) giveSlab(this.#slab);
  }
}

const STATUS_RE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;

/** Status line and header fields (names lower-cased, repeats joined with ", "); null if not HTTP/1.x. */
function parseHead(text: string): ResponseHead | null {
  const lines = text.split('\r\n');
  const m = STATUS_RE.exec(lines[0]);
  if (!m) return null;
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    const value = lines[i].slice(colon + 1).trim();
    const had = headers[name];
    headers[name] = had === undefined ? value : `${String(had)}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}
