// The whole answer to a request the connection layer refuses before any handler sees it
// (malformed, too large, too slow, wrong version): the port's usual JSON error body with CORS
// headers, so a browser player can read why, and Connection: close.

import { STATUS_CODES } from 'node:http';
import { type ErrorCode, errorBody } from '../../../../protocol/index.ts';
import { CORS_RESPONSE_HEADERS } from '../cors.ts';
import { dateHeaderLine } from './response.ts';

export function errorReply(status: number, code: ErrorCode, message: string): Buffer {
  const body = JSON.stringify(errorBody(code, message));
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (let i = 0; i < CORS_RESPONSE_HEADERS.length; i += 2) head += `${CORS_RESPONSE_HEADERS[i]}: ${CORS_RESPONSE_HEADERS[i + 1]}\r\n`;
  head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n`;
  head += `${dateHeaderLine()}Connection: close\r\n\r\n`;
  return Buffer.from(head + body);
}
