// The site's web pages, served by control itself: the viewer's player page and the operator's
// status page (static files in control/src/ui/, no framework, nothing from a CDN), the three
// players' scripts from node_modules, and the read-only JSON the pages need (routes/viewer.ts,
// routes/overview.ts). The pages call control's API from the same origin with a Bearer token
// the user gives them; the HTML and scripts themselves hold no secret.
//
//   /                 → /ui/player/
//   /ui/player/       player page (account token; shaka-player or dash.js on DASH, hls.js on HLS)
//   /ui/status/       status page (operator token)
//   /ui/vendor/<file> shaka-player.compiled.js, dash.all.min.js, hls.min.js

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Control } from '../../control.ts';
import { HttpError } from '../../../../protocol/index.ts';
import { overviewRoutes } from './overview.ts';
import { viewerRoutes } from './viewer.ts';

const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));
const NODE_MODULES = new URL('../../../../node_modules/', import.meta.url);

/** the players, bundled by their own packages; served as they ship */
export const VENDOR: Readonly<Record<string, string>> = {
  'shaka-player.compiled.js': fileURLToPath(new URL('shaka-player/dist/shaka-player.compiled.js', NODE_MODULES)),
  'dash.all.min.js': fileURLToPath(new URL('dashjs/dist/modern/umd/dash.all.min.js', NODE_MODULES)),
  'hls.min.js': fileURLToPath(new URL('hls.js/dist/hls.min.js', NODE_MODULES)),
};

export function uiRoutes(app: FastifyInstance, c: Control): void {
  app.register(fastifyStatic, {
    root: UI_DIR, prefix: '/ui/', index: ['index.html'], redirect: true, decorateReply: false,
    // the pages change with control: revalidate every time (ETag), nothing stale after an upgrade
    cacheControl: true, maxAge: 0,
  });
  app.get('/', async (_req, reply) => reply.redirect('/ui/player/'));
  app.get('/player', async (_req, reply) => reply.redirect('/ui/player/'));
  app.get('/status', async (_req, reply) => reply.redirect('/ui/status/'));

  app.get('/ui/vendor/:file', async (req: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const path = Object.hasOwn(VENDOR, req.params.file) ? VENDOR[req.params.file] : undefined;
    if (!path) throw new HttpError(404, 'not_found', `no vendor script ${req.params.file}`);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new HttpError(404, 'not_found', `${req.params.file} is not installed (npm install)`);
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=3600');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').header('content-length', st.size).send(createReadStream(path));
  });

  viewerRoutes(app, c);
  overviewRoutes(app, c);
}
