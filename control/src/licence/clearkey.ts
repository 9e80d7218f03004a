// W3C EME ClearKey: request {kids:[base64url], type}, response {keys:[{kty:"oct",kid,k}], type},
// kids and keys base64url without padding. A request naming any key id outside the session's
// title is refused as a whole, so probing for other titles' keys gets nothing.

import { z } from 'zod';
import type { LicenceContext, LicenceProvider, LicenceResult } from './licence-provider.ts';

const ClearKeyRequest = z.object({
  kids: z.array(z.string().regex(/^[A-Za-z0-9_-]{22}$/)).min(1).max(64),
  type: z.enum(['temporary', 'persistent-license']).default('temporary'),
});

export class ClearKeyProvider implements LicenceProvider {
  readonly system = 'clearkey';

  issue(ctx: LicenceContext): LicenceResult {
    let body = ctx.body;
    if (Buffer.isBuffer(body)) {
      try { body = JSON.parse(body.toString('utf8')); } catch { body = undefined; }
    }
    const req = ClearKeyRequest.safeParse(body);
    if (!req.success) return { ok: false, status: 400, code: 'bad_licence_request', message: 'expected ClearKey {kids:[base64url key id], type}' };
    const kidsHex = req.data.kids.map((k) => Buffer.from(k, 'base64url').toString('hex'));
    const foreign = kidsHex.find((k) => !ctx.eligibleKids.has(k));
    if (foreign !== undefined) {
      return { ok: false, status: 403, code: 'kid_not_in_session', message: `key id ${foreign} does not belong to this session's title` };
    }
    const keys = kidsHex.map((hex, i) => ({ kty: 'oct', kid: req.data.kids[i], k: ctx.keyOf(hex).toString('base64url') }));
    return { ok: true, body: { keys, type: req.data.type }, contentType: 'application/json', keysIssued: keys.length };
  }
}
