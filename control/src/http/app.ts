// The fastify app: routes, JSON errors everywhere (protocol's errorBody), /metrics, /healthz.

import { createServer } from 'node:http';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, errorBody, HttpError } from '../../../protocol/index.ts';
import type { Control } from '../control.ts';
import { ClearKeyProvider } from '../licence/clearkey.ts';
import { PlaybackService } from '../playback/playback-service.ts';
import { viewerCors } from './cors.ts';
import { playbackFastPath } from './playback-fast-path.ts';
import { applianceRoutes } from './routes/appliances.ts';
import { fillRoutes } from './routes/fill.ts';
import { hygieneRoutes } from './routes/hygiene.ts';
import { imageRoutes } from './routes/images.ts';
import { licenceRoutes } from './routes/licence.ts';
import { operatorRoutes } from './routes/operator.ts';
import { playbackRoutes, playbackStart } from './routes/playback.ts';
import { titleRoutes } from './routes/titles.ts';
import { tlsRoutes } from './routes/tls.ts';
import { uiRoutes } from './routes/ui.ts';

/** Reports carry whole prefix sets and titles carry manifest templates. */
const BODY_LIMIT = 64 * 1024 * 1024;

const FASTIFY_CODES: Partial<Record<number, ErrorCode>> = { 400: 'bad_request', 404: 'not_found', 413: 'payload_too_large', 415: 'unsupported_media_type', 500: 'internal' };

export function buildApp(c: Control): FastifyInstance {
  const playback = new PlaybackService(c);
  const start = playbackStart(c, playback);
  const fast = playbackFastPath(start, c.log);
  const app = Fastify({
    loggerInstance: c.log as FastifyBaseLogger, bodyLimit: BODY_LIMIT,
    // node's server with playback starts taken ahead of Fastify (playback-fast-path.ts), set up
    // as Fastify sets up the one it makes itself (fastify/lib/server.js)
    serverFactory: (handler, options) => {
      const opts = options as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
      const server = createServer((req, res) => { if (!fast(req, res)) handler(req, res); });
      server.keepAliveTimeout = opts.keepAliveTimeout;
      server.requestTimeout = opts.requestTimeout;
      server.setTimeout(opts.connectionTimeout);
      if (opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    },
  });

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.status).send(err.body);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    const code = FASTIFY_CODES[status] ?? (status === 500 ? 'internal' : 'bad_request');
    return reply.code(status).send(errorBody(code, status === 500 ? 'internal error' : err.message));
  });
  // Some EME players post licence requests as application/octet-stream (or no type at all).
  app.addContentTypeParser(['application/octet-stream', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  viewerCors(app);
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  app.get('/healthz', async () => ({ ok: true, appliances: c.fleet.size, prefixes: c.fleet.routes.prefixCount }));
  app.get('/metrics', async (_req, reply) => reply.type(c.metrics.registry.contentType).send(await c.metrics.registry.metrics()));

  applianceRoutes(app, c);
  titleRoutes(app, c);
  tlsRoutes(app, c);
  operatorRoutes(app, c);
  fillRoutes(app, c);
  hygieneRoutes(app, c);
  imageRoutes(app, c);
  playbackRoutes(app, c, playback, start);
  licenceRoutes(app, c, playback, [new ClearKeyProvider()]);
  uiRoutes(app, c);
  return app;
}
