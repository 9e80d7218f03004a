// The public serving port of one worker: plain node:http (no framework on the hot path), with
// the protection limits applied. Every worker listens on the same port with reusePort and the
// kernel spreads connections across them.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { answerPreflight } from './cors.ts';
import { sendError } from './errors.ts';
import { Exchange, type ServeContext } from './exchange.ts';
import { answerOddClients, noteResponse } from './odd-clients.ts';
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
 * `tls` given: the same server over HTTPS (node:https, ALPN http/1.1), with that certificate —
 * null until one is loaded (handshakes fail until then); tls/secure-serving.ts swaps it later.
 */
export function createPublicServer(
  ctx: ServeContext,
  limits: ServerLimits,
  health: () => HealthView,
  tls?: CertificateMaterial | null,
): Server | HttpsServer {
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    // the limits above are enforced by a periodic sweep; make it frequent enough to matter
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    noDelay: true,
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => handle(ctx, health, req, res);
  const server = tls === undefined
    ? createServer(options, onRequest)
    : createHttpsServer({ ...options, ...tlsServerOptions(tls) }, onRequest);
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.socketIdleTimeoutMs;
  answerOddClients(server);
  return server;
}

function handle(
  ctx: ServeContext,
  health: () => HealthView,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  noteResponse(req, res);
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
