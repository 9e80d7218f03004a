// URL token checks on the serving path. A player fetches hundreds of ranges under one token, so
// a verified signature is cached (bounded, until the token expires) and each request then costs
// one Map lookup plus the scope and client checks. Only verified tokens are cached: a forged or
// expired token costs one HMAC per request and never displaces a good entry. When full, the
// oldest verification is dropped (insertion order): cheaper than LRU bookkeeping on every hit,
// and a token still in use is simply verified again.

import {
  tokenAllows,
  verifyTokenSignature,
  type TokenFailure,
  type TokenKeys,
  type TokenPayload,
} from '../../../protocol/index.ts';

export type GateResult = { ok: true; payload: TokenPayload } | { ok: false; reason: TokenFailure | 'missing' };

export interface TokenGateOptions {
  keys: TokenKeys;
  /** how many verified tokens to remember */
  cacheSize?: number;
  /** clock in unix milliseconds, injectable for tests */
  now?: () => number;
}

export class TokenGate {
  #keys: TokenKeys;
  #now: () => number;
  #verified = new Map<string, TokenPayload>();
  #max: number;

  constructor(o: TokenGateOptions) {
    this.#keys = o.keys;
    this.#now = o.now ?? Date.now;
    this.#max = o.cacheSize ?? 10_000;
  }

  check(token: string | undefined, fileId: string, clientIp: string | undefined): GateResult {
    if (token === undefined || token === '') return { ok: false, reason: 'missing' };
    const nowSec = Math.floor(this.#now() / 1000);
    let payload = this.#verified.get(token);
    if (payload !== undefined && payload.exp <= nowSec) {
      this.#verified.delete(token);
      return { ok: false, reason: 'expired' };
    }
    if (payload === undefined) {
      const sig = verifyTokenSignature(token, this.#keys, nowSec);
      if (!sig.ok) return sig;
      payload = sig.payload;
      if (this.#verified.size >= this.#max) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, payload);
    }
    const scope = tokenAllows(payload, fileId, clientIp);
    return scope.ok ? { ok: true, payload } : scope;
  }

  /** verified tokens held */
  get cached(): number {
    return this.#verified.size;
  }

  /** Drop every cached verification (after a key set change). */
  setKeys(keys: TokenKeys): void {
    this.#keys = keys;
    this.#verified.clear();
  }
}
