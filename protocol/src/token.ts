// Signed URL tokens: control signs, the appliance verifies. HMAC-SHA256 over the encoded payload,
// with a key id so keys can rotate (the appliance holds several key ids at once).
//
// Wire form: base64url(JSON payload) "." base64url(HMAC-SHA256(secret, first part)).
// Only base64url characters and one dot, so a token is safe in a query string and in a path
// segment (DASH BaseURL resolution drops query strings, so manifests put the token in the path).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { isFileId, isTitleId, titleOfFileId } from './file-id.ts';
import { parseAddress, parsePrefix, prefixContains } from './ip.ts';

export const TOKEN_MAX_LENGTH = 4096;
const KID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export interface TokenPayload {
  v: 1;
  /** key id: which secret signed this */
  kid: string;
  /** expiry, unix seconds */
  exp: number;
  /** scope: explicit fileIds… */
  files?: string[];
  /** …or every file of one title */
  title?: string;
  /** optional client binding: the viewer's address must fall inside this prefix */
  cidr?: string;
  /** playback session id, for logs only */
  sid?: string;
}

export type TokenKeys = Readonly<Record<string, string>>;

export type TokenFailure =
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'out-of-scope'
  | 'wrong-client';

export type TokenCheck = { ok: true; payload: TokenPayload } | { ok: false; reason: TokenFailure };

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** HMAC-SHA256 of `body`: the raw digest, or encoded by the hash itself (no Buffer in between). */
function mac(secret: string, body: string): Buffer;
function mac(secret: string, body: string, encoding: 'base64url'): string;
function mac(secret: string, body: string, encoding?: 'base64url'): Buffer | string {
  const h = createHmac('sha256', secret).update(body);
  return encoding === undefined ? h.digest() : h.digest(encoding);
}

export interface SignOptions {
  kid: string;
  secret: string;
  /** expiry, unix seconds */
  exp: number;
  files?: string[];
  title?: string;
  cidr?: string;
  sid?: string;
}

export function signToken(o: SignOptions): string {
  if (!KID_RE.test(o.kid)) throw new Error(`invalid key id ${JSON.stringify(o.kid)}`);
  if (!o.secret || o.secret.length < 16) throw new Error('token secret must be at least 16 characters');
  if (!Number.isInteger(o.exp)) throw new Error('exp must be integer unix seconds');
  if (!o.files && !o.title) throw new Error('a token needs a scope: files or title');
  if (o.files && !o.files.every(isFileId)) throw new Error('invalid fileId in token scope');
  if (o.title !== undefined && !isTitleId(o.title)) throw new Error('invalid titleId in token scope');
  if (o.cidr !== undefined && !parsePrefix(o.cidr, true)) throw new Error(`invalid cidr ${o.cidr}`);
  const payload: TokenPayload = { v: 1, kid: o.kid, exp: o.exp };
  if (o.files) payload.files = o.files;
  if (o.title) payload.title = o.title;
  if (o.cidr) payload.cidr = o.cidr;
  if (o.sid) payload.sid = o.sid;
  const body = b64url(Buffer.from(JSON.stringify(payload)));
  // every playback start signs one: the digest comes out base64url-encoded, no Buffer in between
  return `${body}.${mac(o.secret, body, 'base64url')}`;
}

/**
 * Check the signature and expiry of a token without looking at scope. Callers that verify many
 * requests under one token (a player fetches hundreds of ranges) can cache this result until
 * `payload.exp` and then call `tokenAllows` per request.
 */
export function verifyTokenSignature(token: string, keys: TokenKeys, nowSec: number): TokenCheck {
  if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX_LENGTH) {
    return { ok: false, reason: 'malformed' };
  }
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) {
    return { ok: false, reason: 'malformed' };
  }
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isPayload(payload)) return { ok: false, reason: 'malformed' };
  const secret = Object.hasOwn(keys, payload.kid) ? keys[payload.kid] : undefined;
  if (!secret) return { ok: false, reason: 'unknown-key' };
  const given = Buffer.from(sig, 'base64url');
  const want = mac(secret, body);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (payload.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}

/** Scope and client checks for one request under an already verified payload. */
export function tokenAllows(
  payload: TokenPayload,
  fileId: string,
  clientIp: string | undefined,
): { ok: true } | { ok: false; reason: 'out-of-scope' | 'wrong-client' } {
  const inScope =
    (payload.files !== undefined && payload.files.includes(fileId)) ||
    (payload.title !== undefined && titleOfFileId(fileId) === payload.title);
  if (!inScope) return { ok: false, reason: 'out-of-scope' };
  if (payload.cidr !== undefined) {
    const p = parsePrefix(payload.cidr, true);
    const a = clientIp === undefined ? null : parseAddress(clientIp);
    if (!p || !a || !prefixContains(p, a)) return { ok: false, reason: 'wrong-client' };
  }
  return { ok: true };
}

/** Full check of one request: signature, expiry, scope and client binding. */
export function verifyToken(
  token: string,
  keys: TokenKeys,
  req: { fileId: string; clientIp?: string; nowSec: number },
): TokenCheck {
  const sig = verifyTokenSignature(token, keys, req.nowSec);
  if (!sig.ok) return sig;
  const scope = tokenAllows(sig.payload, req.fileId, req.clientIp);
  return scope.ok ? sig : scope;
}

function isPayload(p: unknown): p is TokenPayload {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  const o = p as Record<string, unknown>;
  if (o.v !== 1 || typeof o.kid !== 'string' || !KID_RE.test(o.kid)) return false;
  if (typeof o.exp !== 'number' || !Number.isInteger(o.exp)) return false;
  if (o.files !== undefined && (!Array.isArray(o.files) || !o.files.every(isFileId))) return false;
  if (o.title !== undefined && !isTitleId(o.title)) return false;
  if (o.files === undefined && o.title === undefined) return false;
  if (o.cidr !== undefined && typeof o.cidr !== 'string') return false;
  if (o.sid !== undefined && typeof o.sid !== 'string') return false;
  return true;
}
