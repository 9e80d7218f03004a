// JSON error responses ({error:{code,message}}, protocol errorBody) for the serving port, with
// CORS headers so a browser player can read why it failed and fail over to the next URL.

import type { ServeResponse as ServerResponse } from './h1/response.ts';
import { type ErrorCode, errorBody } from '../../../protocol/index.ts';
import { CORS_RESPONSE_HEADERS } from './cors.ts';

const bodies = new Map<string, Buffer>();

function bodyOf(code: ErrorCode, message: string): Buffer {
  const key = `${code}\n${message}`;
  let b = bodies.get(key);
  if (b === undefined) {
    b = Buffer.from(JSON.stringify(errorBody(code, message)));
    // messages are a small fixed set; keep the cache bounded anyway
    if (bodies.size < 256) bodies.set(key, b);
  }
  return b;
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra?: readonly string[],
): void {
  const body = bodyOf(code, message);
  const headers = [
    ...CORS_RESPONSE_HEADERS,
    'Content-Type', 'application/json',
    'Content-Length', String(body.length),
    'Cache-Control', 'no-store',
  ];
  if (extra) headers.push(...extra);
  res.writeHead(status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
