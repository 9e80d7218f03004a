// Players run on a web page of another origin: they call playback, fetch manifests and ask for
// licences cross-origin. Credentials travel in the Authorization header or the session id, never
// in cookies, so allowing any origin exposes nothing a caller could not already send.

import type { FastifyInstance } from 'fastify';

const VIEWER_PATHS = ['/v1/playback', '/v1/license'];

export function viewerCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!VIEWER_PATHS.some((p) => req.url.startsWith(p))) return;
    reply.header('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      reply.header('access-control-allow-headers', 'authorization, content-type, x-edgebox-session');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });
}
