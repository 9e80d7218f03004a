// Fill API. Appliances fetch their fill manifest with their credential (ETag = manifest version).
// Operators (Bearer operatorToken) run and read the planner, set titles' promotions, sites' fill
// rates and "fill now", and read the status and the peer-token public keys.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Control } from '../../control.ts';
import { fillStatus } from '../../fill/status.ts';
import { HttpError } from '../../../../protocol/index.ts';
import { parseWith } from '../../errors.ts';
import { requireStatic } from '../auth.ts';
import { authenticateAppliance } from './appliances.ts';

type Id = FastifyRequest<{ Params: { id: string } }>;

const Promotion = z.object({
  /** where the premiere is expected; empty = every region the title may be played in */
  regions: z.array(z.string().min(1).max(32)).max(256).default([]),
  expectedViews: z.number().min(0).max(1e12),
  /** epoch ms or an ISO 8601 date-time */
  releaseAt: z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]),
});
const Rate = z.number().min(0).max(1e13).nullable().optional();
const SiteFillBody = z.object({ rateLimitBps: Rate, peerServeRateBps: Rate }).strict();
const FillNow = z.object({ minutes: z.number().min(0).max(7 * 24 * 60) });
const PopularityQuery = z.object({ region: z.string().min(1), limit: z.coerce.number().int().min(1).max(10_000).default(100) });

/** If-None-Match matches the version: a list of entity tags, weak or strong, or "*". */
function notModified(header: string | string[] | undefined, version: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim().replace(/^W\//, ''));
  return tags.some((t) => t === '*' || t === `"${version}"`);
}

export function fillRoutes(app: FastifyInstance, c: Control): void {
  app.get('/v1/appliances/:id/fill-manifest', async (req: Id, reply) => {
    const row = await authenticateAppliance(c, req);
    const a = c.fleet.get(row.applianceId);
    if (!a) throw new HttpError(404, 'appliance_not_found', 'appliance is not in the fleet (its site is gone)');
    const m = c.fill.manifest(a);
    if (!m) {
      c.metrics.fillManifests.inc({ result: 'no_plan' });
      throw new HttpError(404, 'no_fill_plan', 'control has no fill plan for this appliance yet (it is planned once it has reported its disks)');
    }
    reply.header('etag', `"${m.version}"`).header('cache-control', 'no-cache');
    if (notModified(req.headers['if-none-match'], m.version)) {
      c.metrics.fillManifests.inc({ result: 'not_modified' });
      return reply.code(304).send();
    }
    c.metrics.fillManifests.inc({ result: 'sent' });
    return reply.type('application/json; charset=utf-8').send(m.json);
  });

  app.register(async (op) => {
    op.addHook('onRequest', async (req) => requireStatic(req, c.settings.operatorToken, 'operator'));
    const site = async (id: string) => {
      const s = await c.repo.getSite(id);
      if (!s) throw new HttpError(404, 'site_not_found', `no site ${id}`);
      return s;
    };
    const title = (id: string) => {
      const t = c.catalog.get(id);
      if (!t) throw new HttpError(404, 'title_not_found', `no title ${id}`);
      return t;
    };

    op.post('/v1/fill/plan', async () => c.fill.runPlan('operator'));
    op.get('/v1/fill/plan', async () => {
      const run = c.fill.lastRun;
      if (!run) throw new HttpError(404, 'no_fill_plan', 'the planner has not run yet');
      return run;
    });
    op.get('/v1/fill/status', async () => fillStatus(c.fill, c.fleet, await c.repo.listSites(), c.now()));
    op.get('/v1/fill/peer-keys', async () => ({ activeKid: c.fill.keys.signing.kid, publicKeys: c.fill.keys.publicKeys }));
    op.get('/v1/fill/popularity', async (req) => {
      const q = parseWith(PopularityQuery, req.query, 'query');
      return { region: q.region, files: await c.fill.book.top(q.region, q.limit, c.now()) };
    });

    op.put('/v1/titles/:id/promotion', async (req: Id) => {
      const t = title(req.params.id);
      const b = parseWith(Promotion, req.body);
      const p = { titleId: t.titleId, regions: b.regions, expectedViews: b.expectedViews, releaseAt: b.releaseAt };
      await c.repo.putPromotion(p, c.now());
      return p;
    });
    op.get('/v1/titles/:id/promotion', async (req: Id) => {
      const p = (await c.repo.listPromotions()).find((x) => x.titleId === req.params.id);
      if (!p) throw new HttpError(404, 'promotion_not_found', `no promotion for title ${req.params.id}`);
      return p;
    });
    op.delete('/v1/titles/:id/promotion', async (req: Id, reply) => {
      if (!(await c.repo.deletePromotion(req.params.id))) throw new HttpError(404, 'promotion_not_found', `no promotion for title ${req.params.id}`);
      return reply.code(204).send();
    });

    op.put('/v1/sites/:id/fill', async (req: Id) => {
      const s = await site(req.params.id);
      return { siteId: s.siteId, ...await c.fill.windows.setRates(s.siteId, parseWith(SiteFillBody, req.body)) };
    });
    op.post('/v1/sites/:id/fill-now', async (req: Id) => {
      const s = await site(req.params.id);
      const { minutes } = parseWith(FillNow, req.body);
      const until = minutes > 0 ? c.now() + Math.round(minutes * 60_000) : null;
      await c.fill.windows.fillSiteNow(s.siteId, until);
      return { siteId: s.siteId, fillNowUntil: until, window: c.fill.windows.state(s, '', c.now()) };
    });
    op.post('/v1/appliances/:id/fill-now', async (req: Id) => {
      const a = c.fleet.get(req.params.id);
      if (!a) throw new HttpError(404, 'appliance_not_found', `no appliance ${req.params.id}`);
      const { minutes } = parseWith(FillNow, req.body);
      const until = minutes > 0 ? c.now() + Math.round(minutes * 60_000) : null;
      await c.fill.windows.fillApplianceNow(a.id, until);
      return { applianceId: a.id, fillNowUntil: until, window: c.fill.windows.state(a.site, a.id, c.now()) };
    });
  });
}
