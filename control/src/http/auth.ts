// Bearer credentials on requests (the secrets themselves: ../credentials.ts).

import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { secretHash } from '../credentials.ts';
import { HttpError } from '../../../protocol/index.ts';

/** The bearer token, or a 401 naming what is wrong with the header. */
export function bearer(req: FastifyRequest): string {
  return bearerToken(req.headers.authorization);
}

/** The same from the Authorization header's value (playback-fast-path.ts has no FastifyRequest). */
export function bearerToken(h: string | undefined): string {
  if (h === undefined) throw new HttpError(401, 'unauthenticated', 'missing Authorization: Bearer <token>');
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(h);
  if (!m) throw new HttpError(401, 'unauthenticated', 'malformed Authorization header, expected Bearer <token>');
  return m[1];
}

/** Constant-time check of a presented token against a configured one (empty = API disabled). */
export function requireStatic(req: FastifyRequest, configured: string, what: string): void {
  const given = bearer(req);
  if (configured === '') throw new HttpError(401, 'unauthenticated', `${what} API is disabled (no ${what} token configured)`);
  const a = Buffer.from(secretHash(given), 'hex');
  const b = Buffer.from(secretHash(configured), 'hex');
  if (!timingSafeEqual(a, b)) throw new HttpError(401, 'unauthenticated', `invalid ${what} token`);
}
