// Accounts by token hash and profiles by id, kept for a minute: every playback call
// (start, heartbeat, stop) authenticates its account, and a start also reads the profile — two
// store lookups per call against rows control itself never changes (accounts and profiles are
// only added). A change made to the store from outside (an account suspended by billing, in
// this instance's database or a shared PostgreSQL) is seen within TTL_MS — shorter than a
// session's heartbeat TTL (3 min by default), and a suspension does not end live sessions
// anyway. Misses are not kept, so an account or profile added on another instance works at once.

import type { Account, Profile } from '../store/repository.ts';

const TTL_MS = 60_000;
/** Bounds the memory: past this many entries the least recently loaded go first. */
const MAX_ENTRIES = 100_000;

class Expiring<V> {
  #entries = new Map<string, { value: V; until: number }>();

  async get(key: string, load: (key: string) => Promise<V | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const e = this.#entries.get(key);
    if (e && e.until > now) return e.value;
    const value = await load(key);
    this.#entries.delete(key); // re-inserted last: Map order is load order
    if (value !== undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, { value, until: now + TTL_MS });
    }
    return value;
  }
}

export class ViewerCache {
  readonly accounts = new Expiring<Account>();
  readonly profiles = new Expiring<Profile>();
}
