// The seam between session authorisation and a DRM system's wire format.
//
// Control decides WHO gets keys (routes/licence: the session must exist and be live, and only
// the session title's key ids are eligible); a LicenceProvider only speaks one DRM system's
// protocol over that decision. ClearKey (clearkey.ts) answers itself. A Widevine or PlayReady
// provider would implement the same interface as a proxy: take the opaque challenge in `body`,
// forward it to the vendor's licence server with a content-key policy listing `eligibleKids`
// (and their keys from `keyOf`, if the server takes keys from the caller), and relay the binary
// answer with `contentType` set. It would be registered under its own `system` name and reached
// at `POST /v1/license/<system>`; nothing else in control changes.

import type { ErrorCode } from '../../../protocol/index.ts';

export interface LicenceContext {
  titleId: string;
  /** key ids (hex) this session may receive: the session title's, nothing else */
  eligibleKids: ReadonlySet<string>;
  /** the clear content key (16 bytes) for an eligible kid */
  keyOf(kidHex: string): Buffer;
  /** the raw request body (JSON for ClearKey, a binary challenge for others) */
  body: unknown;
}

export type LicenceResult =
  | { ok: true; body: unknown; contentType: string; keysIssued: number }
  | { ok: false; status: 400 | 403; code: ErrorCode; message: string };

export interface LicenceProvider {
  readonly system: string;
  issue(ctx: LicenceContext): LicenceResult;
}
