// Operator API for the hygiene of control's state (Bearer operatorToken): appliance credentials
// (rotate in band, revoke), the URL-token key ring (list, rotate with overlap) and the
// housekeeping job (run now, last run).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Control } from '../../control.ts';
import { HttpError } from '../../../../protocol/index.ts';
import { requireStatic } from '../auth.ts';

type Id = FastifyRequest<{ Params: { id: string } }>;

export function hygieneRoutes(app: FastifyInstance, c: Control): void {
  app.register(async (op) => {
    op.addHook('onRequest', async (req) => requireStatic(req, c.settings.operatorToken, 'operator'));

    // The box gets its next credential in its next report reply and switches to it; control
    // drops the old one when the new one is first used. Asking again before that re-offers.
    op.post('/v1/appliances/:id/credential/rotate', async (req: Id, reply) => {
      if (!(await c.repo.requestCredentialRotation(req.params.id, c.now()))) {
        throw new HttpError(404, 'appliance_not_found', `no appliance ${req.params.id} with a live credential (unknown or revoked)`);
      }
      return reply.code(202).send({ applianceId: req.params.id, rotation: 'requested' });
    });

    // Reports (and every other call) with the box's credential get 401 credential_revoked from
    // now on; the box is drained at once rather than when it goes stale. Coming back takes a new
    // enrollment (a new appliance id).
    op.post('/v1/appliances/:id/credential/revoke', async (req: Id) => {
      const now = c.now();
      if (!(await c.repo.revokeCredential(req.params.id, now))) {
        throw new HttpError(404, 'appliance_not_found', `no appliance ${req.params.id} with a live credential (unknown or already revoked)`);
      }
      c.fleet.setOperatorDrain(req.params.id, true);
      c.metrics.credentials.inc({ event: 'revoked' });
      c.log.warn({ applianceId: req.params.id }, 'appliance credential revoked');
      return { applianceId: req.params.id, revokedAt: now };
    });

    op.get('/v1/url-token-keys', async () => {
      await c.urlTokenKeys.reload();
      const now = c.now();
      return { signing: c.urlTokenKeys.signing(now).kid, version: c.urlTokenKeys.published(now).version, keys: c.urlTokenKeys.describe(now) };
    });

    op.post('/v1/url-token-keys/rotate', async (_req, reply) => {
      await c.urlTokenKeys.reload();
      const key = await c.urlTokenKeys.rotate(c.now());
      c.log.info(key, 'URL-token key rotation started');
      return reply.code(201).send(key);
    });

    op.post('/v1/housekeeping', async () => c.housekeeping.runOnce());
    op.get('/v1/housekeeping', async () => c.housekeeping.last ?? null);
  });
}
