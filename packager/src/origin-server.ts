// The origin: a small HTTP server over the origin store (see publish.ts for the layout). It serves
// files by fileId in both URL forms the appliances use (protocol/src/urls.ts), with Range support
// from @fastify/static, and key-free content manifests at /v1/manifests/<titleId>.json.
//   /v1/f/<fileId>               fill path for appliances. Open (keep it off the public net)
//                                unless both urlTokenKeys and peerPublicKeys are set; then it
//                                takes `Authorization: Bearer <peer token>` (protocol's
//                                peer-token.ts, as control puts in fill manifests) or `?t=<URL token>`
//   /v1/t/<token>/f/<fileId>     what control puts in session manifests when the origin is the
//                                last fallback; the token is verified when urlTokenKeys is set
// Content is CENC-encrypted, so a leaked file is useless without a licence from control.

import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ErrorCode, errorBody, isFileId, isTitleId, TOKEN_MAX_LENGTH, verifyPeerToken, verifyToken, type TokenKeys } from '../../protocol/index.ts';
import type { Logger } from 'pino';

export interface OriginOptions {
  store: string;
  logger?: Logger | boolean;
  /** URL-token keys (kid → secret), shared with control; empty: path-form tokens are not checked */
  urlTokenKeys?: TokenKeys;
  /** control's peer-token public keys (kid → JWK `x`, from GET /v1/fill/peer-keys); with urlTokenKeys they close /v1/f */
  peerPublicKeys?: Readonly<Record<string, string>>;
  now?: () => number;
}

type Refusal = { status: 401 | 403; code: ErrorCode; message: string };

/** Why a request for /v1/f/<fileId> on a keyed origin is refused, or null: a valid peer token or URL token lets it in. */
function fillRefusal(
  auth: string | undefined, urlToken: string | undefined, fileId: string, clientIp: string, nowSec: number,
  peerKeys: Readonly<Record<string, string>>, urlKeys: TokenKeys,
): Refusal | null {
  const reasons: string[] = [];
  if (auth !== undefined) {
    const m = /^Bearer ([^\s]+)$/.exec(auth);
    const check = m ? verifyPeerToken(m[1], peerKeys, { siteId: null, nowSec }) : { ok: false as const, reason: 'malformed' };
    if (check.ok) return null;
    reasons.push(`peer token: ${check.reason}`);
  }
  if (urlToken !== undefined) {
    const check = verifyToken(urlToken, urlKeys, { fileId, clientIp, nowSec });
    if (check.ok) return null;
    reasons.push(`URL token: ${check.reason}`);
  }
  if (reasons.length === 0) return { status: 401, code: 'credential_required', message: 'this origin needs Authorization: Bearer <peer token> or ?t=<URL token>' };
  return { status: 403, code: 'bad_token', message: `refused: ${reasons.join('; ')}` };
}

export async function buildOrigin(o: OriginOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: typeof o.logger === 'object' ? o.logger : undefined,
    logger: typeof o.logger === 'boolean' ? o.logger : undefined,
    // URL tokens travel in a path segment and are far longer than fastify's default 100.
    maxParamLength: TOKEN_MAX_LENGTH,
  } as never) as unknown as FastifyInstance;
  await app.register(fastifyStatic, {
    root: resolve(o.store),
    serve: false,
    acceptRanges: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
    dotfiles: 'deny',
    index: false,
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no such file: ${req.url.split('?')[0]}`)));
  app.setErrorHandler(async (err: Error & { statusCode?: number; status?: number }, req, reply) => {
    const status = err.statusCode ?? err.status ?? 500;
    const fileId = (req.params as { fileId?: string } | undefined)?.fileId;
    if (status === 416 && fileId && isFileId(fileId)) {
      // RFC 9110 §14.4: a 416 names the current length.
      const size = await stat(join(resolve(o.store), fileId)).then((s) => s.size, () => undefined);
      if (size !== undefined) reply.header('content-range', `bytes */${size}`);
    }
    reply.header('content-type', 'application/json; charset=utf-8');
    return reply.code(status).send(errorBody(status === 416 ? 'range_not_satisfiable' : status >= 500 ? 'internal' : 'bad_request', err.message));
  });

  // Players on other origins fetch ranges from here when it is their last fallback.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'content-range, content-length, accept-ranges');
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, HEAD, OPTIONS');
      reply.header('access-control-allow-headers', 'range');
      return reply.code(204).send();
    }
  });
  app.get('/healthz', async () => ({ ok: true }));
  const keys = o.urlTokenKeys ?? {};
  const now = o.now ?? Date.now;
  // fileIds have no extension, so name the media type once the file is being sent.
  const onSend = async (_req: unknown, reply: { statusCode: number; header: (k: string, v: string) => unknown }, payload: unknown) => {
    if (reply.statusCode === 200 || reply.statusCode === 206) reply.header('content-type', 'video/mp4');
    return payload;
  };
  const peerKeys = o.peerPublicKeys ?? {};
  const fillClosed = Object.keys(keys).length > 0 && Object.keys(peerKeys).length > 0;
  app.get<{ Params: { fileId: string }; Querystring: { t?: string } }>('/v1/f/:fileId', { onSend }, (req, reply) => {
    const { fileId } = req.params;
    if (!isFileId(fileId)) return reply.code(400).send(errorBody('bad_file_id', `not a file id: ${fileId}`));
    if (fillClosed) {
      const t = typeof req.query.t === 'string' ? req.query.t : undefined;
      const refusal = fillRefusal(req.headers.authorization, t, fileId, req.ip, Math.floor(now() / 1000), peerKeys, keys);
      if (refusal) return reply.code(refusal.status).send(errorBody(refusal.code, refusal.message));
    }
    return reply.sendFile(fileId);
  });
  app.get<{ Params: { token: string; fileId: string } }>('/v1/t/:token/f/:fileId', { onSend }, (req, reply) => {
    const { token, fileId } = req.params;
    if (!isFileId(fileId)) return reply.code(400).send(errorBody('bad_file_id', `not a file id: ${fileId}`));
    if (Object.keys(keys).length) {
      const check = verifyToken(token, keys, { fileId, clientIp: req.ip, nowSec: Math.floor(now() / 1000) });
      if (!check.ok) return reply.code(403).send(errorBody('bad_token', `URL token refused: ${check.reason}`));
    }
    return reply.sendFile(fileId);
  });
  app.get<{ Params: { titleId: string } }>('/v1/manifests/:titleId.json', (req, reply) => {
    const { titleId } = req.params;
    if (!isTitleId(titleId)) return reply.code(400).send(errorBody('bad_title_id', `not a title id: ${titleId}`));
    return reply.sendFile(`manifests/${titleId}.json`);
  });
  return app;
}
