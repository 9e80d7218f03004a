// The URL-token signing keys (HMAC secrets, protocol token.ts) and their rotation with overlap.
//
// Control signs every new session's token with one key; appliances accept every key control
// publishes. A rotation adds a key that becomes the signing key only `leadMs` later, so every
// reporting appliance has learned it (from a report reply, protocol ReportReply.tokenKeys) before
// the first token signed with it reaches a player. The key it replaces signs nothing from then on
// but stays published until the last token it signed has expired (its successor's activation +
// the token lifetime + urlTokenKeySkewMs); then it is dropped and appliances stop accepting it.
//
// The keys live in the store (url_token_keys), so a restart or another control instance signs
// with the same key. The configured urlTokenKid/urlTokenSecret seed an empty ring; a configured
// kid the ring does not hold is adopted as the signing key at once (a rotation by config, as
// before the ring existed). Secrets are stored as they are, like peer-token private keys: the
// database is control's to guard.

import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Repository, UrlTokenKeyRow } from '../store/repository.ts';

/** urlTokenKeySkewMs: allowance for appliance clocks behind control's when judging a retired key's last expiry */
export interface KeyRingSettings { urlTokenKid: string; urlTokenSecret: string; urlTokenTtlSec: number; urlTokenKeyLeadMs: number; urlTokenKeySkewMs: number }

export interface PublishedKeys {
  /** changes exactly when the published set does */
  version: string;
  keys: Record<string, string>;
}

export class UrlTokenKeys {
  #repo: Repository;
  #s: KeyRingSettings;
  #rows: UrlTokenKeyRow[] = [];
  #published: { at: number; until: number; value: PublishedKeys } | undefined;

  private constructor(repo: Repository, s: KeyRingSettings) {
    this.#repo = repo;
    this.#s = s;
  }

  static async load(repo: Repository, s: KeyRingSettings, now: number, log: Logger): Promise<UrlTokenKeys> {
    const ring = new UrlTokenKeys(repo, s);
    await ring.reload();
    const configured = ring.#rows.find((r) => r.kid === s.urlTokenKid);
    if (s.urlTokenSecret !== '' && configured && configured.secret !== s.urlTokenSecret) {
      log.warn({ kid: s.urlTokenKid }, 'urlTokenSecret differs from the stored key of that kid; the stored one is used (rotate with a new kid)');
    }
    if (s.urlTokenSecret !== '' && !configured) {
      // A ring being seeded signs with the key from the start; a configured key new to an
      // existing ring takes over at once, as changing the setting always did.
      await repo.addUrlTokenKey({ kid: s.urlTokenKid, secret: s.urlTokenSecret, createdAt: now, activeFrom: ring.#rows.length === 0 ? 0 : now });
      await ring.reload();
    } else if (ring.#rows.length === 0) {
      log.warn('no urlTokenSecret configured: a random URL-token key is kept in the database and published to appliances in report replies');
      await repo.addUrlTokenKey({ kid: s.urlTokenKid, secret: randomBytes(32).toString('base64url'), createdAt: now, activeFrom: 0 });
      await ring.reload();
    }
    return ring;
  }

  /** Re-read the ring (another instance may have rotated). */
  async reload(): Promise<void> {
    this.#rows = await this.#repo.listUrlTokenKeys();
    this.#published = undefined;
  }

  /** The key new tokens are signed with at `now`: the latest activated. */
  signing(now: number): UrlTokenKeyRow {
    let best = this.#rows[0];
    for (const r of this.#rows) if (r.activeFrom <= now && r.activeFrom >= best.activeFrom) best = r;
    return best;
  }

  /** When `r` stops mattering: its successor's activation + the token lifetime + skew (Infinity while it has none). */
  #dropAt(r: UrlTokenKeyRow): number {
    let next = Infinity;
    for (const q of this.#rows) if (q.activeFrom > r.activeFrom && q.activeFrom < next) next = q.activeFrom;
    return next + this.#s.urlTokenTtlSec * 1000 + this.#s.urlTokenKeySkewMs;
  }

  /** The keys appliances must accept at `now`: pending, signing, and retired ones whose tokens may still be live. */
  published(now: number): PublishedKeys {
    // the set changes only at a drop; kept until the next one (or a reload)
    const cached = this.#published;
    if (cached && now >= cached.at && now < cached.until) return cached.value;
    const keys: Record<string, string> = {};
    let until = Infinity;
    for (const r of this.#rows) {
      const drop = this.#dropAt(r);
      if (now < drop) {
        keys[r.kid] = r.secret;
        until = Math.min(until, drop);
      }
    }
    const h = createHash('sha256');
    for (const kid of Object.keys(keys).sort()) h.update(`${kid}\0${keys[kid]}\0`);
    const value = { version: h.digest('base64url').slice(0, 22), keys };
    this.#published = { at: now, until, value };
    return value;
  }

  /** Start a rotation: a new key, signing from `now + urlTokenKeyLeadMs`. Returns it without its secret. */
  async rotate(now: number): Promise<{ kid: string; activeFrom: number }> {
    let kid = `k${now.toString(36)}`;
    while (this.#rows.some((r) => r.kid === kid)) kid += 'x';
    const row = { kid, secret: randomBytes(32).toString('base64url'), createdAt: now, activeFrom: now + this.#s.urlTokenKeyLeadMs };
    await this.#repo.addUrlTokenKey(row);
    await this.reload();
    return { kid, activeFrom: row.activeFrom };
  }

  /** Delete keys no token can still need; returns their kids. */
  async prune(now: number): Promise<string[]> {
    const gone = this.#rows.filter((r) => now >= this.#dropAt(r)).map((r) => r.kid);
    for (const kid of gone) await this.#repo.deleteUrlTokenKey(kid);
    if (gone.length > 0) await this.reload();
    return gone;
  }

  /** The ring for the operator: no secrets. */
  describe(now: number) {
    const signing = this.signing(now).kid;
    return this.#rows.map((r) => ({
      kid: r.kid, createdAt: r.createdAt, activeFrom: r.activeFrom, signing: r.kid === signing,
      state: r.kid === signing ? 'signing' : r.activeFrom > now ? 'pending' : 'retired',
      droppedAt: Number.isFinite(this.#dropAt(r)) ? this.#dropAt(r) : null,
    }));
  }
}
