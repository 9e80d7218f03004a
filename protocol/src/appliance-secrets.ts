// Secrets control hands an appliance over its authenticated report channel (report.ts): the URL-
// token keys it must accept (control rotates them with overlap, control/src/playback/
// url-token-keys.ts) and, when an operator rotates the box's credential, its next credential.
// A report names the key-set version it holds; the reply carries the set only when that differs.

import { z } from 'zod';
import type { ErrorCode } from './http-error.ts';

export const TOKEN_KID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const TokenKeySet = z.object({
  /** changes exactly when the set does */
  version: z.string().min(1).max(64),
  /** key id → HMAC secret (token.ts); every key a URL token may be signed with now */
  keys: z.record(z.string().regex(TOKEN_KID_RE), z.string().min(16).max(256)),
});
export type TokenKeySet = z.infer<typeof TokenKeySet>;

/** the error code of a report (or any appliance call) made with a credential an operator revoked (401) */
export const CREDENTIAL_REVOKED = 'credential_revoked' satisfies ErrorCode;
