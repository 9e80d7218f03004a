// Packager-facing API: register a title with its content manifest and keys.

import type { FastifyInstance } from 'fastify';
import { HttpError, TitleRecord } from '../../../../protocol/index.ts';
import type { Control } from '../../control.ts';
import { parseWith } from '../../errors.ts';
import { requireStatic } from '../auth.ts';

export function titleRoutes(app: FastifyInstance, c: Control): void {
  app.post('/v1/titles', async (req, reply) => {
    requireStatic(req, c.settings.packagerToken, 'packager');
    const record = parseWith(TitleRecord, req.body);
    let t;
    try {
      t = await c.catalog.register(record, c.now());
    } catch (err) {
      throw new HttpError(422, 'inconsistent_title', (err as Error).message);
    }
    c.log.info({ titleId: t.titleId, files: t.fileIds.length }, 'title registered');
    return reply.code(201).send({ titleId: t.titleId, files: t.fileIds.length, kids: t.kids.size });
  });
}
