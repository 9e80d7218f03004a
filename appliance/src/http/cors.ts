// CORS for browser players. Any origin may fetch: authorisation is the URL token, never a cookie,
// so there is nothing a foreign page could borrow (no Allow-Credentials). Players need to read
// Content-Range and friends from JS, and send Range / If-Range, which are not CORS-safelisted
// for every value and so trigger a preflight.

import type { ServeResponse as ServerResponse } from './h1/response.ts';

export const CORS_RESPONSE_HEADERS: readonly string[] = [
  'Access-Control-Allow-Origin', '*',
  'Access-Control-Expose-Headers', 'Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified',
];

const PREFLIGHT_HEADERS: readonly string[] = [
  'Access-Control-Allow-Origin', '*',
  'Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers', 'Range, If-Range, If-None-Match, If-Modified-Since',
  'Access-Control-Max-Age', '86400',
  'Content-Length', '0',
];

/** Answer an OPTIONS preflight (no token needed: it reveals nothing). */
export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, PREFLIGHT_HEADERS as string[]);
  res.end();
}
