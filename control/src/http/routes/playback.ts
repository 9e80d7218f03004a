// Viewer-facing playback API (Bearer account token) and the per-session manifests (the session
// id, 128 random bits, is the capability: players fetch manifests without custom headers).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Control } from '../../control.ts';
import { hlsMediaFor, dashFor, hlsMasterFor } from '../../playback/delivery.ts';
import { Heartbeat, PlayRequest } from '../../playback/playback-service.ts';
import type { PlaybackService } from '../../playback/playback-service.ts';
import { HttpError } from '../../../../protocol/index.ts';
import { parseWith } from '../../errors.ts';
import { bearer, bearerToken } from '../auth.ts';
import { clientAddress } from '../client-address.ts';
import type { StartAnswer } from '../playback-fast-path.ts';

type Sid = FastifyRequest<{ Params: { sid: string } }>;

/** A playback start from the request's parts: the route below and playback-fast-path.ts both answer with it. */
export function playbackStart(c: Control, playback: PlaybackService): StartAnswer {
  return async (authorization, socketIp, xff, body) => {
    const account = await playback.account(bearerToken(authorization));
    const request = parseWith(PlayRequest, body);
    const client = clientAddress(socketIp, xff, c.trustedProxies);
    if (!client) throw new HttpError(400, 'bad_request', 'cannot tell the client address');
    return (await playback.start(account, request, client)).json;
  };
}

export function playbackRoutes(app: FastifyInstance, c: Control, playback: PlaybackService, start: StartAnswer): void {
  const titleOf = (titleId: string) => {
    const t = c.catalog.get(titleId);
    if (!t) throw new HttpError(404, 'title_not_found', `title ${titleId} is gone`);
    return t;
  };

  // Most starts are taken before Fastify (playback-fast-path.ts); this route answers the rest
  // (chunked bodies, app.inject) the same way.
  app.post('/v1/playback', async (req, reply) => {
    const json = await start(req.headers.authorization, req.socket.remoteAddress, req.headers['x-forwarded-for'], req.body);
    // already JSON (PlaybackService.start); the type Fastify gives JSON it serialises itself
    return reply.code(201).type('application/json; charset=utf-8').send(json);
  });

  app.put('/v1/playback/:sid/heartbeat', async (req: Sid) => {
    const account = await playback.account(bearer(req));
    await playback.heartbeat(account, req.params.sid, parseWith(Heartbeat, req.body));
    return { ok: true, ttlMs: c.settings.sessionTtlMs };
  });

  app.delete('/v1/playback/:sid', async (req: Sid, reply) => {
    const account = await playback.account(bearer(req));
    await playback.end(account, req.params.sid);
    return reply.code(204).send();
  });

  app.get('/v1/playback/:sid/manifest.mpd', async (req: Sid, reply) => {
    const { session, delivery } = await playback.live(req.params.sid);
    return reply.type('application/dash+xml').send(dashFor(titleOf(session.titleId), delivery, c.publicUrl, session.sessionId));
  });

  app.get('/v1/playback/:sid/master.m3u8', async (req: Sid, reply) => {
    const { session, delivery } = await playback.live(req.params.sid);
    return reply.type('application/vnd.apple.mpegurl').send(hlsMasterFor(titleOf(session.titleId), delivery, c.publicUrl, session.sessionId));
  });

  app.get('/v1/playback/:sid/hls/:rank/:file', async (req: FastifyRequest<{ Params: { sid: string; rank: string; file: string } }>, reply) => {
    const { session, delivery } = await playback.live(req.params.sid);
    const m = /^(.+)\.m3u8$/.exec(req.params.file);
    const body = m && /^\d{1,2}$/.test(req.params.rank)
      ? hlsMediaFor(titleOf(session.titleId), delivery, c.publicUrl, session.sessionId, m[1], Number(req.params.rank))
      : undefined;
    if (body === undefined) throw new HttpError(404, 'not_found', 'no such media playlist in this session');
    return reply.type('application/vnd.apple.mpegurl').send(body);
  });
}
