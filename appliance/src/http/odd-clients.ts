// Two things bare node:http gets wrong for clients that behave oddly but legally, fixed on the
// serving port's server:
//
// - A client that sends a request and at once half-closes (FIN: "I have nothing more to send")
//   still wants its answer. node's default (httpAllowHalfOpen false) aborts the request and ends
//   the socket, so a body that comes from disk (an asynchronous read) was never sent. With it on,
//   the pending responses are written and the socket closes after the last one, as nginx does.
// - A malformed request pipelined behind good ones: node writes its own 400 straight onto the
//   socket — ahead of the good answers still being read from disk — and destroys the connection
//   under them. Here the responses in flight on that connection finish first, then the error is
//   answered (JSON, like every other error of the port) and the connection closed.
//
// The second costs one property store per request (`noteResponse`, the connection's latest
// response) and nothing else: node answers a connection's responses in order, so the latest one
// closing means all before it have, and only a connection with a parse error while that response
// is still open waits for it.

import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { type ErrorCode, errorBody } from '../../../protocol/index.ts';
import { CORS_RESPONSE_HEADERS } from './cors.ts';

/** The latest response of a connection (set by the request handler, read only on a parse error). */
const kLatest = Symbol('edgebox.latestResponse');
/** A connection whose error reply already went out or is waiting: the parser repeats its error. */
const kAnswered = Symbol('edgebox.parseErrorAnswered');
type Tracked = Socket & { [kLatest]?: ServerResponse; [kAnswered]?: true };

/** Call from the request handler: remembers the connection's latest response. */
export function noteResponse(req: IncomingMessage, res: ServerResponse): void {
  (req.socket as Tracked)[kLatest] = res;
}

/** node's own choice of status for a parse error, kept (with a JSON body and a code). */
function replyFor(err: NodeJS.ErrnoException): { status: number; reason: string; code: ErrorCode; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', code: 'headers_too_large', message: 'the request header block is too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Payload Too Large', code: 'payload_too_large', message: 'chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', code: 'request_timeout', message: 'the request did not arrive in time' };
    default:
      return { status: 400, reason: 'Bad Request', code: 'bad_request', message: 'malformed HTTP request' };
  }
}

function answer(socket: Socket, err: NodeJS.ErrnoException): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const r = replyFor(err);
  const body = JSON.stringify(errorBody(r.code, r.message));
  const head = [`HTTP/1.1 ${r.status} ${r.reason}`];
  for (let i = 0; i < CORS_RESPONSE_HEADERS.length; i += 2) head.push(`${CORS_RESPONSE_HEADERS[i]}: ${CORS_RESPONSE_HEADERS[i + 1]}`);
  head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Cache-Control: no-store', 'Connection: close');
  // end, not destroy: the reply must reach the client before the FIN
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** Set on a server whose request handler calls `noteResponse` for every request. */
export function answerOddClients(server: HttpServer | HttpsServer): void {
  // the http and https servers' own switch (set in their constructors; not in node's typings)
  Object.assign(server, { httpAllowHalfOpen: true });
  server.on('clientError', (err: NodeJS.ErrnoException, s: Socket) => {
    const socket = s as Tracked;
    if (socket[kAnswered]) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket[kAnswered] = true;
    const latest = socket[kLatest];
    socket[kLatest] = undefined;
    // finished: its bytes (and every earlier response's) are on the socket; close follows a tick later
    if (latest === undefined || latest.writableFinished || latest.destroyed) {
      answer(socket, err);
      return;
    }
    latest.once('close', () => answer(socket, err));
  });
}
