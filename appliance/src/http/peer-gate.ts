// Peer credentials on the serving path (GET|HEAD /v1/peer/f/:fileId, protocol/src/peer-token.ts):
// `Authorization: Bearer <peer token>`, an Ed25519 signature by control, checked against the
// public keys and this appliance's site from the fill manifest. Like the URL token gate, a verified
// token is cached until it expires (one Map lookup per request after the first); only verified
// tokens are cached, and a new key set or site clears the cache. Before the first manifest there
// are no keys at all: the caller answers 503, not 403, so a peer knows to come back.

import { verifyPeerToken, type PeerTokenFailure, type PeerTokenPayload } from '../../../protocol/index.ts';

export interface PeerConfig {
  siteId: string;
  /** key id → Ed25519 public key (JWK x) */
  publicKeys: Record<string, string>;
}

export type PeerGateResult =
  | { ok: true; payload: PeerTokenPayload }
  | { ok: false; reason: PeerTokenFailure | 'missing' | 'no-keys' };

const BEARER = 'bearer ';

export class PeerGate {
  #config: PeerConfig | undefined;
  #verified = new Map<string, PeerTokenPayload>();
  #max: number;
  #now: () => number;

  constructor(o: { cacheSize?: number; now?: () => number } = {}) {
    this.#max = o.cacheSize ?? 1_000;
    this.#now = o.now ?? Date.now;
  }

  get configured(): boolean {
    return this.#config !== undefined;
  }

  /** verified tokens held */
  get cached(): number {
    return this.#verified.size;
  }

  setConfig(c: PeerConfig): void {
    const old = this.#config;
    if (old !== undefined && old.siteId === c.siteId && sameKeys(old.publicKeys, c.publicKeys)) return;
    this.#config = c;
    this.#verified.clear();
  }

  /** Check an Authorization header value. */
  check(authorization: string | undefined): PeerGateResult {
    const config = this.#config;
    if (config === undefined) return { ok: false, reason: 'no-keys' };
    if (authorization === undefined || authorization.length <= BEARER.length
      || authorization.slice(0, BEARER.length).toLowerCase() !== BEARER) return { ok: false, reason: 'missing' };
    const token = authorization.slice(BEARER.length).trim();
    const nowSec = Math.floor(this.#now() / 1000);
    let payload = this.#verified.get(token);
    if (payload !== undefined) {
      if (payload.exp > nowSec) return { ok: true, payload };
      this.#verified.delete(token);
      return { ok: false, reason: 'expired' };
    }
    const r = verifyPeerToken(token, config.publicKeys, { siteId: config.siteId, nowSec });
    if (!r.ok) return r;
    payload = r.payload;
    if (this.#verified.size >= this.#max) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, payload);
    return r;
  }
}

function sameKeys(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
