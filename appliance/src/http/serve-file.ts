// GET/HEAD of one file: token first (so a request without a valid token never learns whether a
// file exists), then lookup, conditionals, Range, and the body from RAM (zero-copy subarray of
// the shared buffer) or disk (pooled reads with backpressure). The file is pinned in the store
// for the whole response so it is never evicted or moved while being read.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { notModified, ifRangeMatches } from './conditional.ts';
import { sendError } from './errors.ts';
import type { Exchange, ServeContext } from './exchange.ts';
import { headersOf } from './file-headers.ts';
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
  const gate = ctx.gate.check(token, fileId, req.socket.remoteAddress);
  if (!gate.ok) return sendError(res, 403, 'forbidden', `token ${gate.reason}`);
  const file = ctx.view.get(fileId);
  if (file === undefined) return sendError(res, 404, 'not_found', 'no such file on this appliance');

  const h = headersOf(file);
  const rq = req.headers;
  if (notModified(rq['if-none-match'], rq['if-modified-since'], h.validators)) {
    res.writeHead(304, h.base as string[]);
    res.end();
    return;
  }

  let ranges: ByteSpan[] | undefined;
  const rangeHeader = rq.range;
  if (rangeHeader !== undefined && ifRangeMatches(oneValue(rq['if-range']), h.validators)) {
    const r = parseRange(rangeHeader, file.bytes);
    if (r.kind === 'unsatisfiable') {
      return sendError(res, 416, 'range_not_satisfiable', 'no requested range overlaps the file', [
        'Content-Range', h.unsatisfiedRange,
      ]);
    }
    if (r.kind === 'ranges' && r.ranges.length <= ctx.maxRanges) ranges = r.ranges;
    // overlapping ranges could ask for many times the file (RFC 9110 §17.15): never send more
    // than the whole file, which is what 200 gives
    if (ranges !== undefined && ranges.length > 1 && spanTotal(ranges) > file.bytes) ranges = undefined;
  }

  // a RAM copy must be of this very entry (a replaced file's copy is dropped before the new
  // entry arrives, but a length check costs nothing)
  let ram = ctx.view.ram(fileId);
  if (ram !== undefined && ram.length !== file.bytes) ram = undefined;
  x.tier = ram !== undefined ? 'ram' : file.tier;
  x.fileId = fileId;
  const head = req.method === 'HEAD';

  if (ranges === undefined || ranges.length === 1) {
    const start = ranges === undefined ? 0 : ranges[0].start;
    const end = ranges === undefined ? file.bytes - 1 : ranges[0].end;
    let headers: string[];
    if (ranges === undefined) {
      headers = h.full as string[];
    } else {
      headers = h.common.slice();
      headers.push('Content-Length', String(end - start + 1), 'Content-Range', `bytes ${start}-${end}/${file.bytes}`);
    }
    const status = ranges === undefined ? 200 : 206;
    if (head) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    if (ram !== undefined) {
      x.unpin = ctx.view.pin(file);
      res.writeHead(status, headers);
      const body = ranges === undefined ? ram : ram.subarray(start, end + 1);
      res.end(body);
      x.bytes = body.length;
      return;
    }
    x.unpin = ctx.view.pin(file);
    sendDisk(ctx, x, file, status, headers, start, end);
    return;
  }
  x.unpin = ctx.view.pin(file);
  sendMultipart(ctx, x, file, ranges, ram, head);
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
