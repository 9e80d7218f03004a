// Appliance-facing API: one-time enrollment, then authenticated reports (see protocol/src/enroll.ts).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApplianceReport, CREDENTIAL_REVOKED, EnrollRequest, HttpError } from '../../../../protocol/index.ts';
import type { EnrollReply, ReportReply } from '../../../../protocol/index.ts';
import type { Control } from '../../control.ts';
import type { CredentialMatch } from '../../store/repository.ts';
import { parseWith } from '../../errors.ts';
import { newId, newSecret, secretHash } from '../../credentials.ts';
import { bearer } from '../auth.ts';

const ENROLL_REFUSALS = {
  unknown: [401, 'unauthenticated', 'unknown enrollment token'],
  expired: [401, 'unauthenticated', 'enrollment token expired'],
  used: [403, 'enrollment_token_used', 'enrollment token was already used'],
  'wrong-site': [403, 'forbidden', 'enrollment token was issued for another site'],
} as const;

export function applianceRoutes(app: FastifyInstance, c: Control): void {
  app.post('/v1/appliances/enroll', async (req, reply) => {
    const body = parseWith(EnrollRequest, req.body);
    const applianceId = newId('app');
    const credential = newSecret();
    const now = c.now();
    await c.adoptConfiguredEnrollmentToken(body.enrollmentToken);
    const r = await c.repo.enroll(secretHash(body.enrollmentToken), body.siteId, {
      applianceId, name: body.name, publicUrl: body.publicUrl.replace(/\/+$/, ''), createdAt: now, credentialHash: secretHash(credential),
    }, Math.floor(now / 1000));
    if (!r.ok) {
      const [status, code, message] = ENROLL_REFUSALS[r.reason];
      throw new HttpError(status, code, message);
    }
    const site = (await c.repo.getSite(r.siteId!))!;
    c.fleet.add(applianceId, site, body.name, body.publicUrl.replace(/\/+$/, ''));
    c.log.info({ applianceId, siteId: site.siteId, name: body.name }, 'appliance enrolled');
    const out: EnrollReply = { applianceId, siteId: site.siteId, credential, reportIntervalMs: c.settings.reportIntervalMs };
    return reply.code(201).send(out);
  });

  app.post('/v1/appliances/:id/report', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const row = await authenticateAppliance(c, req, (result) => c.metrics.reports.inc({ result }));
    const report = parseWith(ApplianceReport, req.body);
    const now = c.now();
    const a = c.fleet.get(row.applianceId);
    if (!a) throw new HttpError(404, 'appliance_not_found', 'appliance is not in the fleet (its site is gone)');
    const { badPrefixes, ...out } = c.fleet.applyReport(a, report, now);
    c.metrics.reports.inc({ result: out.ignored ? 'ignored' : 'accepted' });
    if (out.ignored) req.log.info({ applianceId: a.id, seq: report.seq, bootId: report.bootId }, 'replayed or out-of-order report ignored');
    if (badPrefixes) req.log.warn({ applianceId: a.id, badPrefixes: badPrefixes.slice(0, 10) }, 'report carried unparsable prefixes; skipped');
    const replyBody: ReportReply = out;
    if (!out.ignored) {
      c.fill.onReport(a, report.fill);
      const manifest = c.fill.manifest(a);
      if (manifest) replyBody.fillManifest = manifest.version;
      // the operator's certificate for the box's TLS hostname; its PEMs only when the box serves another
      const tlsCertificate = await c.tlsCertificates.offerFor(report.tls);
      if (tlsCertificate) replyBody.tlsCertificate = tlsCertificate;
      // URL-token keys to accept, when the box holds another set (rotation with overlap)
      const keys = c.urlTokenKeys.published(now);
      if (report.tokenKeys !== keys.version) replyBody.tokenKeys = keys;
      // An operator asked for a new credential: offer one; the old one works until this one is used.
      if (row.state === 'current' && row.rotateRequested) {
        const next = newSecret();
        await c.repo.offerNextCredential(a.id, secretHash(next));
        replyBody.credential = next;
      }
    }
    return replyBody;
  });
}

/**
 * The appliance a request's Bearer credential belongs to, which must be the one in the path
 * (401/403 otherwise; 401 `credential_revoked` for a credential an operator revoked). The first
 * call with a rotated credential makes it the current one and retires the old.
 */
export async function authenticateAppliance(c: Control, req: FastifyRequest<{ Params: { id: string } }>, refused: (result: 'unauthenticated' | 'forbidden') => void = () => {}): Promise<CredentialMatch> {
  const row = await c.repo.authenticateCredential(secretHash(bearer(req)));
  if (!row) {
    refused('unauthenticated');
    throw new HttpError(401, 'unauthenticated', 'unknown appliance credential');
  }
  if (row.state === 'revoked') {
    refused('unauthenticated');
    c.metrics.credentials.inc({ event: 'refused_revoked' });
    throw new HttpError(401, CREDENTIAL_REVOKED, 'an operator revoked this appliance credential; enroll again with a new enrollment token');
  }
  if (row.applianceId !== req.params.id) {
    refused('forbidden');
    throw new HttpError(403, 'forbidden', 'this credential belongs to another appliance');
  }
  if (row.state === 'next') {
    await c.repo.promoteNextCredential(row.applianceId);
    c.metrics.credentials.inc({ event: 'rotated' });
    c.log.info({ applianceId: row.applianceId }, 'appliance credential rotated: the new one is in use, the old one no longer works');
    return { ...row, state: 'current', rotateRequested: false };
  }
  return row;
}
