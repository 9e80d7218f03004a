// The origin: a small HTTP server over the origin store (see publish.ts for the layout). It serves
// files by fileId at the same path form appliances use (/v1/f/<fileId>), with Range support from
// @fastify/static, and key-free content manifests at /v1/manifests/<titleId>.json. No tokens:
// the origin is reached by appliances filling, not by viewers.

import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorBody, isFileId, isTitleId } from '../../protocol/index.ts';
import type { Logger } from 'pino';

export interface OriginOptions {
  store: string;
  logger?: Logger | boolean;
}

export async function buildOrigin(o: OriginOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: typeof o.logger === 'object' ? o.logger : undefined, logger: typeof o.logger === 'boolean' ? o.logger : undefined } as never) as unknown as FastifyInstance;
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

  app.get('/healthz', async () => ({ ok: true }));
  app.get<{ Params: { fileId: string } }>('/v1/f/:fileId', {
    // fileIds have no extension, so name the media type once the file is being sent.
    onSend: async (_req, reply, payload) => {
      if (reply.statusCode === 200 || reply.statusCode === 206) reply.header('content-type', 'video/mp4');
      return payload;
    },
  }, (req, reply) => {
    const { fileId } = req.params;
    if (!isFileId(fileId)) return reply.code(400).send(errorBody('bad_file_id', `not a file id: ${fileId}`));
    return reply.sendFile(fileId);
  });
  app.get<{ Params: { titleId: string } }>('/v1/manifests/:titleId.json', (req, reply) => {
    const { titleId } = req.params;
    if (!isTitleId(titleId)) return reply.code(400).send(errorBody('bad_title_id', `not a title id: ${titleId}`));
    return reply.sendFile(`manifests/${titleId}.json`);
  });
  return app;
}
