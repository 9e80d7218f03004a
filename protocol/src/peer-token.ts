// Peer credentials: how one appliance proves to another (or to the origin) that control allowed
// it to fill from them. Distinct from viewer URL tokens in every way: another path
// (/v1/peer/f/), another header (Authorization: Bearer), another signature. Control signs with an
// Ed25519 private key only it holds; appliances get the public keys in their fill manifest, so a
// box can check its peers but can never mint a credential for itself or anyone else.
//
// Wire form: base64url(JSON payload) "." base64url(Ed25519 signature over the first part).

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export const PEER_TOKEN_MAX_LENGTH = 4096;
const KID_RE = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;

export interface PeerTokenPayload {
  v: 1;
  typ: 'peer';
  kid: string;
  /** expiry, unix seconds */
  exp: number;
  /** the appliance this credential was issued to */
  sub: string;
  /** the sites whose appliances may serve it: its own and, for the tier, the region's IX sites */
  sites: string[];
}

export type PeerTokenFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'wrong-site';
export type PeerTokenCheck = { ok: true; payload: PeerTokenPayload } | { ok: false; reason: PeerTokenFailure };

/** An Ed25519 key pair as JWK members (base64url): `x` is public, `d` is the private seed. */
export interface PeerSigningKey { kid: string; x: string; d: string }

export function generatePeerSigningKey(kid: string): PeerSigningKey {
  if (!KID_RE.test(kid)) throw new Error(`invalid key id ${JSON.stringify(kid)}`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { kid, x: jwk.x!, d: jwk.d! };
}

const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject | null>();

function privateKeyOf(k: PeerSigningKey): KeyObject {
  let key = privateKeys.get(k.d);
  if (!key) {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x, d: k.d }, format: 'jwk' });
    privateKeys.set(k.d, key);
  }
  return key;
}

function publicKeyOf(x: string): KeyObject | null {
  let key = publicKeys.get(x);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    } catch {
      key = null;
    }
    publicKeys.set(x, key);
  }
  return key;
}

export function signPeerToken(key: PeerSigningKey, o: { exp: number; sub: string; sites: string[] }): string {
  if (!Number.isInteger(o.exp)) throw new Error('exp must be integer unix seconds');
  if (!o.sub) throw new Error('a peer token needs a subject');
  if (o.sites.length === 0) throw new Error('a peer token needs at least one site');
  const payload: PeerTokenPayload = { v: 1, typ: 'peer', kid: key.kid, exp: o.exp, sub: o.sub, sites: o.sites };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(null, Buffer.from(body), privateKeyOf(key)).toString('base64url')}`;
}

/**
 * Check a peer token presented to an appliance of `siteId` (or to the origin, which passes
 * siteId null and accepts any site). `keys` maps key id → public key `x`.
 */
export function verifyPeerToken(
  token: string,
  keys: Readonly<Record<string, string>>,
  req: { siteId: string | null; nowSec: number },
): PeerTokenCheck {
  if (typeof token !== 'string' || token.length === 0 || token.length > PEER_TOKEN_MAX_LENGTH) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!B64URL_RE.test(body) || !/^[A-Za-z0-9_-]{86}$/.test(sig)) return { ok: false, reason: 'malformed' };
  let payload: PeerTokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isPayload(payload)) return { ok: false, reason: 'malformed' };
  const x = Object.hasOwn(keys, payload.kid) ? keys[payload.kid] : undefined;
  const pub = x === undefined ? null : publicKeyOf(x);
  if (!pub) return { ok: false, reason: 'unknown-key' };
  if (!verify(null, Buffer.from(body), pub, Buffer.from(sig, 'base64url'))) return { ok: false, reason: 'bad-signature' };
  if (payload.exp <= req.nowSec) return { ok: false, reason: 'expired' };
  if (req.siteId !== null && !payload.sites.includes(req.siteId)) return { ok: false, reason: 'wrong-site' };
  return { ok: true, payload };
}

function isPayload(p: unknown): p is PeerTokenPayload {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  const o = p as Record<string, unknown>;
  return o.v === 1 && o.typ === 'peer' && typeof o.kid === 'string' && KID_RE.test(o.kid)
    && typeof o.exp === 'number' && Number.isInteger(o.exp)
    && typeof o.sub === 'string' && o.sub.length > 0 && o.sub.length <= 64
    && Array.isArray(o.sites) && o.sites.length > 0 && o.sites.length <= 64 && o.sites.every((s) => typeof s === 'string');
}
