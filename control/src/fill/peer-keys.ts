// Control's peer-token signing key (protocol/src/peer-token.ts) and the tokens it issues. The key
// comes from the `peerSigningKey` setting or, absent that, is generated once and kept in the
// database (INSERT OR IGNORE under a fixed kid, so instances racing at first start agree), so a
// restart does not invalidate the tokens appliances hold. Every stored key's public half is
// published, so a key rotated in by config still lets the old tokens verify until they expire.
//
// A token is reused until half its lifetime is gone, so an appliance's manifest (whose version
// covers the token) does not change on every rebuild.

import { generatePeerSigningKey, signPeerToken } from '../../../protocol/index.ts';
import type { PeerSigningKey } from '../../../protocol/index.ts';
import type { PeerKeyRow, Repository } from '../store/repository.ts';

const GENERATED_KID = 'p1';

interface Issued { token: string; exp: number; sites: string }

export class PeerKeys {
  readonly signing: PeerSigningKey;
  readonly publicKeys: Readonly<Record<string, string>>;
  #issued = new Map<string, Issued>();

  private constructor(configured: PeerSigningKey | undefined, stored: PeerKeyRow[]) {
    const fromDb = stored.find((k) => k.kid === GENERATED_KID) ?? stored[stored.length - 1];
    this.signing = configured ?? { kid: fromDb.kid, x: fromDb.x, d: fromDb.d };
    const keys: Record<string, string> = {};
    for (const k of stored) keys[k.kid] = k.x;
    keys[this.signing.kid] = this.signing.x;
    this.publicKeys = keys;
  }

  static async load(repo: Repository, configured: PeerSigningKey | undefined, now: number): Promise<PeerKeys> {
    let stored = await repo.listPeerKeys();
    if (!configured && stored.length === 0) {
      const k = generatePeerSigningKey(GENERATED_KID);
      stored = await repo.addPeerKey({ ...k, createdAt: now });
    }
    return new PeerKeys(configured, stored);
  }

  /** A token for `applianceId` naming `sites`, valid for `ttlSec`; the same one again while it has over half its life left. */
  tokenFor(applianceId: string, sites: readonly string[], nowMs: number, ttlSec: number): { token: string; exp: number } {
    const nowSec = Math.floor(nowMs / 1000);
    const key = sites.join(',');
    const held = this.#issued.get(applianceId);
    if (held && held.sites === key && held.exp - nowSec > ttlSec / 2) return held;
    const exp = nowSec + ttlSec;
    const issued = { token: signPeerToken(this.signing, { exp, sub: applianceId, sites: [...sites] }), exp, sites: key };
    this.#issued.set(applianceId, issued);
    return issued;
  }
}
