// What a signed-in viewer's page needs before it can ask to play (Bearer account token,
// read-only): the account with its profiles and stream limit, and the titles it may play
// (those without regions, or listing the account's region). The player page reads these.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Control } from '../../control.ts';
import { streamLimit } from '../../playback/plans.ts';
import { HttpError } from '../../../../protocol/index.ts';
import { secretHash } from '../../credentials.ts';
import { bearer } from '../auth.ts';

export function viewerRoutes(app: FastifyInstance, c: Control): void {
  const account = async (req: FastifyRequest) => {
    const a = await c.repo.accountByToken(secretHash(bearer(req)));
    if (!a) throw new HttpError(401, 'unauthenticated', 'unknown account token');
    return a;
  };

  app.get('/v1/me', async (req) => {
    const a = await account(req);
    return {
      accountId: a.accountId, name: a.name, plan: a.plan, region: a.region, status: a.status, streamLimit: streamLimit(a.plan),
      profiles: (await c.repo.listProfiles(a.accountId)).map((p) => ({ profileId: p.profileId, name: p.name })),
    };
  });

  app.get('/v1/me/titles', async (req) => {
    const a = await account(req);
    return [...c.catalog.all()]
      .filter((t) => t.regions.length === 0 || t.regions.includes(a.region))
      .sort((x, y) => x.name.localeCompare(y.name))
      .map((t) => ({
        titleId: t.titleId, name: t.name, durationMs: t.manifest.durationMs,
        video: t.manifest.files.filter((f) => f.kind === 'video').map((f) => ({ width: f.width ?? null, height: f.height ?? null, bandwidth: f.bandwidth })),
        audio: t.manifest.files.filter((f) => f.kind === 'audio').map((f) => f.language ?? null),
      }));
  });
}
