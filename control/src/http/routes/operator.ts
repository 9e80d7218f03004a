// Operator API (Bearer operatorToken): sites, enrollment tokens, accounts, drain, and the read
// side: appliances and their state, prefixes, where a title is available, a steering probe.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError, isTimeZone, parseAddress } from '../../../../protocol/index.ts';
import type { Control } from '../../control.ts';
import { PLANS } from '../../playback/plans.ts';
import type { ApplianceState } from '../../steering/appliance-state.ts';
import { steer } from '../../steering/steer.ts';
import { parseWith } from '../../errors.ts';
import { newId, newSecret, secretHash } from '../../credentials.ts';
import { requireStatic } from '../auth.ts';

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
const SiteBody = z.object({
  kind: z.enum(['embedded', 'ix']),
  region: z.string().min(1).max(32),
  timeZone: z.string().min(1).max(64).refine(isTimeZone, 'unknown IANA time zone'),
  fillWindow: z.object({ start: HHMM, end: HHMM }).default({ start: '02:00', end: '14:00' }),
});
const AccountBody = z.object({
  name: z.string().min(1).max(100),
  plan: z.enum(Object.keys(PLANS) as [keyof typeof PLANS]),
  region: z.string().min(1).max(32),
  status: z.enum(['active', 'suspended']).default('active'),
});
const SteerQuery = z.object({ ip: z.string(), titleId: z.string(), region: z.string().default('') });

type Id = FastifyRequest<{ Params: { id: string } }>;

export function operatorRoutes(app: FastifyInstance, c: Control): void {
  const view = (a: ApplianceState) => ({
    applianceId: a.id, name: a.name, siteId: a.site.siteId, siteKind: a.site.kind, region: a.site.region,
    publicUrl: a.publicUrl, state: c.fleet.status(a, c.now()), operatorDrain: a.operatorDrain,
    health: a.health, load: a.load, utilisation: a.utilisation, lastReportAt: a.lastReportAt ?? null,
    softwareVersion: a.softwareVersion, bgp: a.bgp, tiers: a.tiers, files: a.inventory.size, prefixes: a.routes.length,
  });
  const appliance = (id: string) => {
    const a = c.fleet.get(id);
    if (!a) throw new HttpError(404, 'appliance_not_found', `no appliance ${id}`);
    return a;
  };

  app.register(async (op) => {
    op.addHook('onRequest', async (req) => requireStatic(req, c.settings.operatorToken, 'operator'));

    op.put('/v1/sites/:id', async (req: Id) => {
      if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(req.params.id)) throw new HttpError(400, 'bad_request', 'site id: lower-case letters, digits, dashes');
      const b = parseWith(SiteBody, req.body);
      const site = { siteId: req.params.id, ...b };
      await c.repo.putSite(site);
      c.fleet.updateSite(site);
      c.fill.siteChanged();
      return site;
    });
    op.get('/v1/sites', async () => c.repo.listSites());

    op.post('/v1/enrollment-tokens', async (req, reply) => {
      const { siteId } = parseWith(z.object({ siteId: z.string() }), req.body);
      if (!(await c.repo.getSite(siteId))) throw new HttpError(404, 'site_not_found', `no site ${siteId}`);
      const token = newSecret();
      const expiresAt = Math.floor(c.now() / 1000) + c.settings.enrollmentTokenTtlSec;
      await c.repo.addEnrollmentToken(secretHash(token), siteId, expiresAt);
      return reply.code(201).send({ enrollmentToken: token, siteId, expiresAt });
    });

    op.get('/v1/appliances', async () => [...c.fleet.all()].map(view));
    op.get('/v1/appliances/:id', async (req: Id) => view(appliance(req.params.id)));
    op.get('/v1/appliances/:id/prefixes', async (req: Id) => {
      const a = appliance(req.params.id);
      return { applianceId: a.id, hash: a.prefixHash ?? null, routes: a.routes };
    });
    op.put('/v1/appliances/:id/drain', async (req: Id) => {
      const { drain } = parseWith(z.object({ drain: z.boolean() }), req.body);
      const a = appliance(req.params.id);
      await c.repo.setOperatorDrain(a.id, drain);
      c.fleet.setOperatorDrain(a.id, drain);
      return view(a);
    });

    op.get('/v1/titles', async () => [...c.catalog.all()].map((t) => ({ titleId: t.titleId, name: t.name, regions: t.regions, files: t.fileIds.length })));
    op.get('/v1/titles/:id/availability', async (req: Id) => {
      const t = c.catalog.get(req.params.id);
      if (!t) throw new HttpError(404, 'title_not_found', `no title ${req.params.id}`);
      const now = c.now();
      const where = [];
      for (const a of c.fleet.all()) {
        const held = t.fileIds.filter((f) => a.inventory.has(f)).length;
        if (held > 0) where.push({ applianceId: a.id, siteId: a.site.siteId, state: c.fleet.status(a, now), filesHeld: held, complete: held === t.fileIds.length });
      }
      return { titleId: t.titleId, files: t.fileIds.length, regions: t.regions, appliances: where };
    });

    op.get('/v1/steering', async (req) => {
      const q = parseWith(SteerQuery, req.query, 'query');
      const address = parseAddress(q.ip);
      if (!address) throw new HttpError(400, 'bad_request', `query.ip: not an address: ${q.ip}`);
      // as playback answers an unknown title: 404, not a made-up decision for no files
      const t = c.catalog.get(q.titleId);
      if (!t) throw new HttpError(404, 'title_not_found', `no title ${q.titleId}`);
      return steer(c.fleet, { address, titleId: q.titleId, fileIds: t.fileIds, region: q.region, now: c.now() }, {
        topK: c.settings.topK, fallbackK: c.settings.fallbackK, originUrl: c.settings.originUrl, throughput: c.throughput,
      });
    });

    op.post('/v1/accounts', async (req, reply) => {
      const b = parseWith(AccountBody, req.body);
      const accountId = newId('acc');
      const apiToken = newSecret();
      await c.repo.addAccount({ accountId, ...b }, secretHash(apiToken));
      return reply.code(201).send({ accountId, apiToken, ...b });
    });
    op.post('/v1/accounts/:id/profiles', async (req: Id, reply) => {
      const { name } = parseWith(z.object({ name: z.string().min(1).max(100) }), req.body);
      const profileId = newId('prf');
      try {
        await c.repo.addProfile({ profileId, accountId: req.params.id, name });
      } catch {
        throw new HttpError(404, 'account_not_found', `no account ${req.params.id}`);
      }
      return reply.code(201).send({ profileId, accountId: req.params.id, name });
    });
  });
}
