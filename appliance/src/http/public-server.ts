// The public serving port of one worker: our own strict HTTP/1.1 layer (h1/) over net or TLS
// sockets, no framework, with the protection limits applied. Every worker listens on the same
// port with reusePort and the kernel spreads connections across them.

import { answerPreflight } from './cors.ts';
import { sendError } from './errors.ts';
import { Exchange, type ServeContext } from './exchange.ts';
import type { ServeRequest, ServeResponse } from './h1/response.ts';
import { H1Server } from './h1/server.ts';
import { parseFilePath } from './request-path.ts';
import { serveFile } from './serve-file.ts';
import { servePeer } from './serve-peer.ts';
import { tlsServerOptions, type CertificateMaterial } from './tls/cipher-policy.ts';
import type { TlsHealth } from './tls/tls-keeper.ts';

export interface ServerLimits {
  /** slowloris: the whole header block must arrive within this */
  headersTimeoutMs: number;
  /** the whole request (headers and any body) must arrive within this */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0 = unlimited */
  maxRequestsPerSocket: number;
  /** this worker's share of the box's connection limit */
  maxConnections: number;
  maxHeaderSize: number;
  /** a socket with no traffic either way for this long is closed (stalled readers) */
  socketIdleTimeoutMs: number;
}

export interface HealthView {
  status: 'ok' | 'degraded' | 'failing';
  reasons: string[];
  /** the served TLS certificate (days left, source), when the box serves HTTPS */
  tls?: TlsHealth | null;
}

/**
 * `tls` given: the same server over TLS (ALPN http/1.1), with that certificate — null until one
 * is loaded (handshakes fail until then); tls/secure-serving.ts swaps it later.
 */
export function createPublicServer(
  ctx: ServeContext,
  limits: ServerLimits,
  health: () => HealthView,
  tls?: CertificateMaterial | null,
): H1Server {
  const onRequest = (req: ServeRequest, res: ServeResponse): void => handle(ctx, health, req, res);
  // requestTimeoutMs bounds the head as well: the port takes no request bodies
  const h1 = { ...limits, headersTimeoutMs: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) };
  return new H1Server(h1, onRequest, tls === undefined ? undefined : tlsServerOptions(tls));
}

function handle(
  ctx: ServeContext,
  health: () => HealthView,
  req: ServeRequest,
  res: ServeResponse,
): void {
  const x = new Exchange(ctx, res);
  const url = req.url ?? '/';
  const route = parseFilePath(url);
  const method = req.method;
  if (route.kind === 'file') {
    if (method === 'GET' || method === 'HEAD') return serveFile(ctx, x, req, res, route.fileId, route.token);
    if (method === 'OPTIONS') return answerPreflight(res);
    return sendError(res, 405, 'method_not_allowed', 'use GET or HEAD', ['Allow', 'GET, HEAD, OPTIONS']);
  }
  if (route.kind === 'peer') {
    x.peer = true;
    if (method === 'GET' || method === 'HEAD') return servePeer(ctx, x, req, res, route.fileId);
    return sendError(res, 405, 'method_not_allowed', 'use GET or HEAD', ['Allow', 'GET, HEAD']);
  }
  if (route.kind === 'bad') return sendError(res, 400, 'bad_request', route.message);
  if (url === '/v1/health' && (method === 'GET' || method === 'HEAD')) {
    const h = health();
    const body = Buffer.from(JSON.stringify(h));
    res.writeHead(h.status === 'failing' ? 503 : 200, [
      'Content-Type', 'application/json',
      'Content-Length', String(body.length),
      'Cache-Control', 'no-store',
      'Access-Control-Allow-Origin', '*',
    ]);
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (method === 'OPTIONS') return answerPreflight(res);
  return sendError(res, 404, 'not_found', 'no such route');
}
