// The appliance image (protocol/src/image-update.ts): the operator sets each site's target image
// version (a staged rollout is one site at a time); appliances ask for it, report how their update
// went (downloading, trying, committed, rolled back) and what their turn-up checks found.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, ImageStatus, ImageTarget, type ImageTargetReply, TurnupReport } from '../../../../protocol/index.ts';
import type { Control } from '../../control.ts';
import { parseWith } from '../../errors.ts';
import { requireStatic } from '../auth.ts';
import { authenticateAppliance } from './appliances.ts';

type Id = FastifyRequest<{ Params: { id: string } }>;

const HISTORY = 20;

function parseOr<T>(json: string | null | undefined, fallback: T): T {
  if (!json) return fallback;
  try { return JSON.parse(json) as T; } catch { return fallback; }
}

export function imageRoutes(app: FastifyInstance, c: Control): void {
  // One credential check for every appliance route (revoked → 401 credential_revoked, rotation
  // honoured); the site comes from the fleet, which holds every enrolled appliance.
  const authAppliance = async (req: Id): Promise<{ applianceId: string; siteId: string }> => {
    const { applianceId } = await authenticateAppliance(c, req);
    const a = c.fleet.get(applianceId);
    if (!a) throw new HttpError(401, 'unauthenticated', 'unknown appliance credential');
    return { applianceId, siteId: a.site.siteId };
  };
  const site = async (siteId: string) => {
    const s = await c.repo.getSite(siteId);
    if (!s) throw new HttpError(404, 'site_not_found', `no site ${siteId}`);
    return s;
  };
  const siteView = async (siteId: string) => {
    const t = await c.repo.imageTarget(siteId);
    const appliances = [];
    for (const a of (await c.repo.listAppliances()).filter((x) => x.siteId === siteId)) {
      const img = await c.repo.applianceImage(a.applianceId);
      appliances.push({
        applianceId: a.applianceId, name: a.name,
        status: parseOr<ImageStatus | null>(img?.status, null),
        history: parseOr<ImageStatus[]>(img?.history, []),
        turnup: parseOr<TurnupReport | null>(img?.turnup, null),
      });
    }
    return { siteId, target: t ? { version: t.version, manifestUrl: t.manifestUrl, updatedAt: t.updatedAt } : null, appliances };
  };

  app.get('/v1/appliances/:id/image', async (req: Id) => {
    const row = await authAppliance(req);
    const s = await site(row.siteId);
    const t = await c.repo.imageTarget(row.siteId);
    // downloads share the fill window; the operator's "fill now" lives with fill (null here)
    const reply: ImageTargetReply = {
      target: t ? { version: t.version, manifestUrl: t.manifestUrl } : null,
      fillWindow: { timeZone: s.timeZone, start: s.fillWindow.start, end: s.fillWindow.end },
      fillNowUntil: null,
    };
    return reply;
  });

  app.post('/v1/appliances/:id/image-status', async (req: Id, reply) => {
    const row = await authAppliance(req);
    const status = parseWith(ImageStatus, req.body);
    const history = parseOr<ImageStatus[]>((await c.repo.applianceImage(row.applianceId))?.history, []);
    history.push(status);
    await c.repo.saveApplianceImage({
      applianceId: row.applianceId, status: JSON.stringify(status), history: JSON.stringify(history.slice(-HISTORY)), turnup: null,
    });
    const log = status.state === 'rolled-back' || status.state === 'failed' ? req.log.warn.bind(req.log) : req.log.info.bind(req.log);
    log({ applianceId: row.applianceId, image: status }, `appliance image ${status.state}`);
    return reply.code(204).send();
  });

  app.post('/v1/appliances/:id/turnup', async (req: Id, reply) => {
    const row = await authAppliance(req);
    const report = parseWith(TurnupReport, req.body);
    await c.repo.saveApplianceImage({ applianceId: row.applianceId, status: null, history: null, turnup: JSON.stringify(report) });
    if (!report.passed) req.log.warn({ applianceId: row.applianceId, checks: report.checks.filter((x) => !x.ok) }, 'appliance turn-up checks failed');
    return reply.code(204).send();
  });

  app.register(async (op) => {
    op.addHook('onRequest', async (req) => requireStatic(req, c.settings.operatorToken, 'operator'));
    op.put('/v1/sites/:id/image', async (req: Id) => {
      await site(req.params.id);
      const t = parseWith(ImageTarget, req.body);
      await c.repo.setImageTarget(req.params.id, { ...t, updatedAt: c.now() });
      req.log.info({ siteId: req.params.id, target: t }, 'site image target set');
      return siteView(req.params.id);
    });
    op.delete('/v1/sites/:id/image', async (req: Id) => {
      await site(req.params.id);
      await c.repo.setImageTarget(req.params.id, null);
      return siteView(req.params.id);
    });
    op.get('/v1/sites/:id/image', async (req: Id) => {
      await site(req.params.id);
      return siteView(req.params.id);
    });
  });
}
