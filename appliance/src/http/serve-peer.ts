// GET/HEAD /v1/peer/f/:fileId — another appliance of the site (or of the region's embedded sites,
// for an IX box) filling from this one. The credential is a peer token in the Authorization header
// (peer-gate.ts), never a viewer's URL token. Past the gate it is the viewer path's own steps
// (serveEntry: conditionals, Range, body), with two differences: the body is paced by the peer
// rate limit (peer-pacer.ts), and a file the box does not hold is a plain 404 — peers never fill
// through each other. Counted in the peer series, not the viewers'.

import type { ServeRequest as IncomingMessage, ServeResponse as ServerResponse } from './h1/response.ts';
import { sendError } from './errors.ts';
import type { Exchange, ServeContext } from './exchange.ts';
import { serveEntry } from './serve-file.ts';

export function servePeer(ctx: ServeContext, x: Exchange, req: IncomingMessage, res: ServerResponse, fileId: string): void {
  x.peer = true;
  const gate = ctx.peers.check(req.headers.authorization);
  if (!gate.ok) {
    if (gate.reason === 'no-keys') {
      return sendError(res, 503, 'peer_keys_unknown', 'no fill manifest yet: peer credentials cannot be checked');
    }
    return sendError(res, 403, 'forbidden', `token ${gate.reason}`);
  }
  const file = ctx.view.get(fileId);
  if (file === undefined) return sendError(res, 404, 'not_found', 'no such file on this appliance');
  x.hooks = ctx.peerPacer.hooks;
  serveEntry(ctx, x, req, res, file);
}
