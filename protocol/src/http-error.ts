// Every HTTP error from every Edgebox service has this body: { error: { code, message, ...extra } }.
// Players and scripts branch on `code`, so every code any service sends is listed here, once, in
// one spelling (snake_case); a code missing from the list is a type error at the throw site.
// protocol/README.md says which service sends which code with which status.

export const ERROR_CODES = Object.freeze([
  // any service
  'bad_request', 'not_found', 'forbidden', 'unauthenticated', 'payload_too_large', 'internal',
  // appliance serving port and admin API
  'bad_json', 'method_not_allowed', 'headers_too_large', 'request_timeout', 'version_not_supported', 'range_not_satisfiable',
  'disk_error', 'fill_failed', 'peer_keys_unknown', 'control_unreachable', 'admin_disabled', 'no_worker',
  // origin (packager/src/origin-server.ts)
  'credential_required', 'bad_token', 'bad_file_id', 'bad_title_id',
  // control
  'unsupported_media_type', 'credential_revoked', 'enrollment_token_used', 'appliance_not_found',
  'site_not_found', 'title_not_found', 'account_not_found', 'profile_not_found', 'session_not_found',
  'certificate_not_found', 'promotion_not_found', 'no_fill_plan', 'inconsistent_title', 'bad_certificate',
  'certificate_expired', 'not_entitled', 'not_in_region', 'stream_limit', 'session_ended', 'session_not_live',
  'unknown_licence_system', 'bad_licence_request', 'kid_not_in_session', 'key_missing',
  // packager CLI --json (same body on stdout, no HTTP status)
  'usage', 'bad_settings', 'bad_master', 'qa_failed', 'failed',
  // test fault proxy (scripts/lib/fault-proxy.ts)
  'bad_gateway',
] as const);

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; [extra: string]: unknown };
}

/** `extra` goes inside `error`, never beside it, and cannot overwrite code or message. */
export function errorBody(code: ErrorCode, message: string, extra?: Readonly<Record<string, unknown>>): ErrorBody {
  return { error: { ...extra, code, message } };
}

/** The one refusal type: thrown by domain code and routes alike; each service's HTTP layer sends `body` with `status`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(status: number, code: ErrorCode, message: string, extra?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.extra = extra;
  }

  get body(): ErrorBody {
    return errorBody(this.code, this.message, this.extra);
  }
}
