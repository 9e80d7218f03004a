// The embedded store's stream-limit state in memory: the sessions not ended, by account, so a
// playback start counts the account's live streams without a query (the count was the largest
// statement of a start). Only the SQLite store keeps one: it is the one writer of its file, so
// every change to a session passes through it and the copy cannot go stale. PostgreSQL, shared
// by several instances, counts in the database (edgebox_start_session).
//
// Exact against the table, by these rules:
// - it is loaded from the table on the first count, and from then on every start, heartbeat, end
//   and prune is applied here too;
// - sessions silent since before the floor are let go: the floor follows the highest `liveSince`
//   asked, KEEP_MS behind, so the copy holds about the live sessions only. A count asked below
//   it (the clock set back further than that) is not answered here (`devices` returns undefined)
//   and the caller counts in SQL;
// - a heartbeat for a session let go brings it back (the store passes the row it updated).

export interface LiveSession { sessionId: string; accountId: string; device: string; startedAt: number; lastHeartbeatAt: number }

/** how far behind the highest liveSince lapsed sessions are still kept */
const KEEP_MS = 10_000;

export class LiveSessions {
  /** per account with sessions here, its sessions not ended (down to the floor), by start time */
  #byAccount = new Map<string, LiveSession[]>();
  #byId = new Map<string, LiveSession>();
  #loaded = false;
  #floor = -Infinity;

  get loaded(): boolean { return this.#loaded; }

  /** `read(since)`: the table's sessions not ended with a heartbeat at or after `since` */
  load(liveSince: number, read: (since: number) => LiveSession[]): void {
    this.#floor = liveSince - KEEP_MS;
    this.#loaded = true;
    for (const s of read(this.#floor)) this.add(s);
  }

  /**
   * The devices of the account's sessions with a heartbeat at or after `liveSince`, oldest start
   * first (once loaded); undefined when `liveSince` is below the floor.
   */
  devices(accountId: string, liveSince: number): string[] | undefined {
    if (liveSince < this.#floor) return undefined;
    this.#floor = Math.max(this.#floor, liveSince - KEEP_MS);
    const list = this.#byAccount.get(accountId);
    if (!list) return [];
    const devices: string[] = [];
    let kept = 0;
    for (const s of list) {
      if (s.lastHeartbeatAt < this.#floor) { this.#byId.delete(s.sessionId); continue; }
      list[kept++] = s;
      if (s.lastHeartbeatAt >= liveSince) devices.push(s.device);
    }
    list.length = kept;
    if (kept === 0) this.#byAccount.delete(accountId);
    return devices;
  }

  /** a session inserted, or revived by a heartbeat */
  add(s: LiveSession): void {
    if (!this.#loaded || s.lastHeartbeatAt < this.#floor || this.#byId.has(s.sessionId)) return;
    let list = this.#byAccount.get(s.accountId);
    if (!list) this.#byAccount.set(s.accountId, (list = []));
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
    if (list.length === 0) this.#byAccount.delete(s.accountId);
  }

  /** a heartbeat at `at`: true if the session is held here (else the caller may `add` it) */
  heartbeat(sessionId: string, at: number): boolean {
    const s = this.#byId.get(sessionId);
    if (s) s.lastHeartbeatAt = at;
    return s !== undefined;
  }

  /** sessions silent since before `before` were deleted from the table; those below the floor go too */
  prune(before: number): void {
    const drop = (s: LiveSession) => s.lastHeartbeatAt < before || s.lastHeartbeatAt < this.#floor;
    for (const [accountId, list] of this.#byAccount) {
      if (!list.some(drop)) continue;
      for (const s of list) if (drop(s)) this.#byId.delete(s.sessionId);
      const kept = list.filter((s) => !drop(s));
      if (kept.length === 0) this.#byAccount.delete(accountId);
      else this.#byAccount.set(accountId, kept);
    }
  }
}
