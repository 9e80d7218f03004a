// Licences, authorised by the session: it must exist and be live, and only its title's key ids
// are eligible. The DRM system's wire format is the provider's business (licence-provider.ts).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Control } from '../../control.ts';
import type { LicenceProvider } from '../../licence/licence-provider.ts';
import type { PlaybackService } from '../../playback/playback-service.ts';
import { HttpError } from '../../../../protocol/index.ts';

type LicenceRoute = { Params: { system?: string }; Querystring: { session?: string } };
type LicenceReq = FastifyRequest<LicenceRoute>;

export function licenceRoutes(app: FastifyInstance, c: Control, playback: PlaybackService, providers: readonly LicenceProvider[]): void {
  const handler = async (req: LicenceReq) => {
    const system = req.params.system ?? 'clearkey';
    const provider = providers.find((p) => p.system === system);
    if (!provider) throw new HttpError(404, 'unknown_licence_system', `no licence system ${system}`);
    const count = (result: string) => c.metrics.licences.inc({ system, result });
    const sid = req.query.session ?? req.headers['x-edgebox-session'];
    if (typeof sid !== 'string' || sid === '') {
      count('unauthenticated');
      throw new HttpError(401, 'unauthenticated', 'licence requests need ?session=<sessionId>');
    }
    let live;
    try {
      live = await playback.live(sid);
    } catch (err) {
      count('denied');
      throw err;
    }
    const titleId = live.session.titleId;
    const title = c.catalog.get(titleId);
    if (!title) throw new HttpError(404, 'title_not_found', `title ${titleId} is gone`);
    // read before issuing: the provider asks for keys synchronously
    const keys = await c.catalog.keysOf(titleId);
    const result = provider.issue({
      titleId, eligibleKids: title.kids, body: req.body,
      keyOf(kid) {
        const k = keys.get(kid);
        if (!k) throw new HttpError(500, 'key_missing', `no stored key for kid ${kid}`);
        return k;
      },
    });
    if (!result.ok) {
      count('denied');
      throw new HttpError(result.status, result.code, result.message);
    }
    count('issued');
    req.log.info({ sessionId: sid, titleId, keys: result.keysIssued, system }, 'licence issued');
    return result.body;
  };
  // EME players post the CDM's licence message as they please: shaka-player sends it with no
  // Content-Type at all. Take an untyped body as raw bytes (the provider parses it) instead of
  // answering 415, which would stop playback.
  const untypedIsBytes = async (req: FastifyRequest) => {
    if (req.headers['content-type'] === undefined) req.headers['content-type'] = 'application/octet-stream';
  };
  app.post<LicenceRoute>('/v1/license', { onRequest: untypedIsBytes }, handler);
  app.post<LicenceRoute>('/v1/license/:system', { onRequest: untypedIsBytes }, handler);
}
