// The embedded store's stream-limit state in memory: per account, its sessions not ended, so a
// playback start counts the account's live streams without a query (the count was the largest
// statement of a start). Only the SQLite store keeps one: it is the one writer of its file, so
// every change to a session passes through it and the copy cannot go stale. PostgreSQL, shared
// by several instances, counts in the database (edgebox_start_session).
//
// Exact against the table, by these rules:
// - an account is loaded from the table the first time it is asked about, and from then on every
//   start, heartbeat, end and prune of its sessions is applied here too;
// - sessions that lapsed before the highest `liveSince` asked so far (the floor) are let go, so
//   the copy holds about the live sessions only; a count asked below the floor (the clock went
//   back) is not answered here (`devices` returns undefined) and the caller counts in SQL;
// - a heartbeat for a session let go brings it back (the store passes the row it updated);
// - accounts left with no session are dropped at a prune and loaded again on their next start.

export interface LiveSession { sessionId: string; accountId: string; device: string; startedAt: number; lastHeartbeatAt: number }

export class LiveSessions {
  /** per loaded account, its sessions not ended (down to the floor), by start time */
  #byAccount = new Map<string, LiveSession[]>();
  #byId = new Map<string, LiveSession>();
  #floor = -Infinity;

  isLoaded(accountId: string): boolean { return this.#byAccount.has(accountId); }

  load(accountId: string, sessions: LiveSession[]): void {
    this.#byAccount.set(accountId, []);
    for (const s of sessions) this.add(s);
  }

  /**
   * The devices of the account's sessions with a heartbeat at or after `liveSince`, oldest start
   * first (the account must be loaded); undefined when `liveSince` is below the floor.
   */
  devices(accountId: string, liveSince: number): string[] | undefined {
    if (liveSince < this.#floor) return undefined;
    this.#floor = liveSince;
    const list = this.#byAccount.get(accountId)!;
    const devices: string[] = [];
    let kept = 0;
    for (const s of list) {
      if (s.lastHeartbeatAt < liveSince) { this.#byId.delete(s.sessionId); continue; }
      list[kept++] = s;
      devices.push(s.device);
    }
    list.length = kept;
    return devices;
  }

  /** a session inserted (or revived by a heartbeat) for a loaded account; others are not kept */
  add(s: LiveSession): void {
    const list = this.#byAccount.get(s.accountId);
    if (!list || s.lastHeartbeatAt < this.#floor || this.#byId.has(s.sessionId)) return;
    // by start time, ties in insertion order (as the table's ORDER BY started_at reads them)
    let i = list.length;
    while (i > 0 && list[i - 1].startedAt > s.startedAt) i--;
    list.splice(i, 0, s);
    this.#byId.set(s.sessionId, s);
  }

  remove(sessionId: string): void {
    const s = this.#byId.get(sessionId);
    if (!s) return;
    this.#byId.delete(sessionId);
    const list = this.#byAccount.get(s.accountId)!;
    list.splice(list.indexOf(s), 1);
  }

  /** a heartbeat at `at`: true if the session is held here (else the caller may `add` it) */
  heartbeat(sessionId: string, at: number): boolean {
    const s = this.#byId.get(sessionId);
    if (s) s.lastHeartbeatAt = at;
    return s !== undefined;
  }

  /** sessions silent since before `before` were deleted from the table */
  prune(before: number): void {
    for (const [accountId, list] of this.#byAccount) {
      const kept = list.filter((s) => s.lastHeartbeatAt >= before && s.lastHeartbeatAt >= this.#floor);
      if (kept.length < list.length) for (const s of list) if (s.lastHeartbeatAt < before || s.lastHeartbeatAt < this.#floor) this.#byId.delete(s.sessionId);
      if (kept.length === 0) this.#byAccount.delete(accountId);
      else this.#byAccount.set(accountId, kept);
    }
  }
}
