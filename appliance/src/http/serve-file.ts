// GET/HEAD of one file: token first (so a request without a valid token never learns whether a
// file exists), then lookup, conditionals, Range, and the body from RAM (zero-copy subarray of
// the shared buffer) or disk (pooled reads with backpressure). The file is pinned in the store
// for the whole response so it is never evicted or moved while being read. A file the store does
// not hold goes to the miss path (miss-stream.ts): a fast 404 unless the fill engine wants it.
// Peers (serve-peer.ts) enter at serveEntry with their own gate; both share every step after it.

import type { ResponseHeaders, ServeRequest as IncomingMessage, ServeResponse as ServerResponse } from './h1/response.ts';
import type { FileEntry } from '../store/types.ts';
import { notModified, ifRangeMatches } from './conditional.ts';
import { sendError } from './errors.ts';
import type { Exchange, ServeContext } from './exchange.ts';
import { headersOf, rangeHeaders } from './file-headers.ts';
import { parseRange, type ByteSpan } from './range.ts';
import { sendDisk, sendMultipart } from './send-body.ts';

export function serveFile(
  ctx: ServeContext,
  x: Exchange,
  req: IncomingMessage,
  res: ServerResponse,
  fileId: string,
  token: string | undefined,
): void {
  if (ctx.refuseViewers !== null) return sendError(res, 503, ctx.refuseViewers.code, ctx.refuseViewers.message);
  const gate = ctx.gate.check(token, fileId, req.socket.remoteAddress);
  if (!gate.ok) return sendError(res, 403, 'forbidden', `token ${gate.reason}`);
  const file = ctx.view.get(fileId);
  if (file === undefined) return ctx.misses.serve(x, req, res, fileId);
  serveEntry(ctx, x, req, res, file);
}

/** What a GET/HEAD of a file will send, once conditionals and Range have been applied. */
export type ResponsePlan =
  | { multi: false; status: 200 | 206; headers: ResponseHeaders; start: number; end: number; head: boolean }
  | { multi: true; ranges: ByteSpan[]; head: boolean };

/**
 * Conditionals and Range for a file of known size and validators (held, or being filled): answers
 * 304 and 416 itself (and returns undefined), else says which bytes to send with which headers.
 */
export function planResponse(ctx: ServeContext, req: IncomingMessage, res: ServerResponse, file: FileEntry): ResponsePlan | undefined {
  const h = headersOf(file);
  const rq = req.headers;
  if (notModified(rq['if-none-match'], rq['if-modified-since'], h.validators)) {
    res.writeHead(304, h.base as string[]);
    res.end();
    return undefined;
  }

  let ranges: ByteSpan[] | undefined;
  const rangeHeader = rq.range;
  if (rangeHeader !== undefined && ifRangeMatches(oneValue(rq['if-range']), h.validators)) {
    const r = parseRange(rangeHeader, file.bytes);
    if (r.kind === 'unsatisfiable') {
      sendError(res, 416, 'range_not_satisfiable', 'no requested range overlaps the file', ['Content-Range', h.unsatisfiedRange]);
      return undefined;
    }
    if (r.kind === 'ranges' && r.ranges.length <= ctx.maxRanges) ranges = r.ranges;
    // overlapping ranges could ask for many times the file (RFC 9110 §17.15): never send more
    // than the whole file, which is what 200 gives
    if (ranges !== undefined && ranges.length > 1 && spanTotal(ranges) > file.bytes) ranges = undefined;
  }
  const head = req.method === 'HEAD';
  if (ranges !== undefined && ranges.length > 1) return { multi: true, ranges, head };
  if (ranges === undefined) return { multi: false, status: 200, headers: h.full, start: 0, end: file.bytes - 1, head };
  const { start, end } = ranges[0];
  return { multi: false, status: 206, headers: rangeHeaders(h, start, end, file.bytes), start, end, head };
}

/** Conditionals, Range and body of a file the store holds (a viewer's hit, or a peer). */
export function serveEntry(ctx: ServeContext, x: Exchange, req: IncomingMessage, res: ServerResponse, file: FileEntry): void {
  const p = planResponse(ctx, req, res, file);
  if (p === undefined) return;
  const fileId = file.fileId;
  // a RAM copy must be of this very entry (a replaced file's copy is dropped before the new
  // entry arrives, but a length check costs nothing); a paced body (peers) always goes through
  // the chunked disk path, where the pacing applies
  let ram = x.hooks === undefined ? ctx.view.ram(fileId) : undefined;
  if (ram !== undefined && ram.length !== file.bytes) ram = undefined;
  x.tier = ram !== undefined ? 'ram' : file.tier;
  x.fileId = fileId;

  if (!p.multi) {
    if (p.head) {
      res.writeHead(p.status, p.headers);
      res.end();
      return;
    }
    x.unpin = ctx.view.pin(file);
    if (ram !== undefined) {
      res.writeHead(p.status, p.headers);
      const body = p.status === 200 ? ram : ram.subarray(p.start, p.end + 1);
      res.end(body);
      x.bytes = body.length;
      return;
    }
    sendDisk(ctx, x, file, p.status, p.headers, p.start, p.end);
    return;
  }
  x.unpin = ctx.view.pin(file);
  sendMultipart(ctx, x, file, p.ranges, ram, p.head);
}

/** Node joins most duplicate headers, but types a few as possibly repeated. */
function oneValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function spanTotal(ranges: ByteSpan[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.start + 1;
  return n;
}
