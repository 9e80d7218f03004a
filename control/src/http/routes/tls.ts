// Operator API for the appliances' TLS certificates (tls/tls-certificates.ts): upload a
// certificate and key for a serving hostname, list them (never the keys), delete one. Enrolled
// appliances whose reported https:// URL it names get it in their next report reply.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CERT_FINGERPRINT_RE, HttpError, MAX_CERT_PEM_CHARS, MAX_KEY_PEM_CHARS } from '../../../../protocol/index.ts';
import type { Control } from '../../control.ts';
import { parseWith } from '../../errors.ts';
import { requireStatic } from '../auth.ts';

const Upload = z.object({
  /** PEM, leaf first, then its chain */
  certPem: z.string().min(1).max(MAX_CERT_PEM_CHARS),
  keyPem: z.string().min(1).max(MAX_KEY_PEM_CHARS),
}).strict();

export function tlsRoutes(app: FastifyInstance, c: Control): void {
  const operator = (req: FastifyRequest) => requireStatic(req, c.settings.operatorToken, 'operator');

  app.post('/v1/tls/certificates', async (req, reply) => {
    operator(req);
    const body = parseWith(Upload, req.body);
    const stored = await c.tlsCertificates.put(body);
    c.log.info({ fingerprint: stored.fingerprint, hosts: stored.hosts, notAfter: stored.notAfter }, 'TLS certificate uploaded');
    return reply.code(201).send(stored);
  });

  app.get('/v1/tls/certificates', async (req) => {
    operator(req);
    return { certificates: await c.tlsCertificates.list() };
  });

  app.delete('/v1/tls/certificates/:fingerprint', async (req: FastifyRequest<{ Params: { fingerprint: string } }>, reply) => {
    operator(req);
    const fp = req.params.fingerprint.toUpperCase();
    if (!CERT_FINGERPRINT_RE.test(fp)) throw new HttpError(400, 'bad_request', 'fingerprint must be a SHA-256 fingerprint "AB:CD:…"');
    if (!(await c.tlsCertificates.delete(fp))) throw new HttpError(404, 'certificate_not_found', `no certificate ${fp}`);
    return reply.code(204).send();
  });
}
