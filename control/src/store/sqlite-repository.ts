// The embedded store: better-sqlite3, WAL, prepared statements. Calls run synchronously (the
// methods are `async` only to fit the seam: each returns an already settled promise), so a
// transaction here is also a critical section in the one Node process: two simultaneous play
// requests on one account cannot both pass the stream-limit count.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';
import { LiveSessions } from './live-sessions.ts';
import { SqliteCheckpointer } from './sqlite-checkpointer.ts';
import type {
  Account, ApplianceFillNow, ApplianceImageRow, CredentialMatch, RouteLogRow, UrlTokenKeyRow, Changes, ApplianceRow, ApplianceSnapshot, EnrollResult, PeerKeyRow, PopularityRow, Profile, Promotion, Repository, SealedKey,
  LiveSessionRow, NewSession, SessionRow, Site, SiteFill, SiteImageTarget, StartResult, TitleRow, TlsCertificateRow,
} from './repository.ts';

type Row = Record<string, unknown>;

function siteOf(r: Row): Site {
  return {
    siteId: r.site_id as string, kind: r.kind as Site['kind'], region: r.region as string,
    timeZone: r.time_zone as string, fillWindow: { start: r.fill_start as string, end: r.fill_end as string },
  };
}

function applianceOf(r: Row): ApplianceRow {
  return {
    applianceId: r.appliance_id as string, siteId: r.site_id as string, name: r.name as string,
    publicUrl: r.public_url as string, createdAt: r.created_at as number,
    operatorDrain: r.operator_drain === 1, snapshot: (r.snapshot as string | null) ?? null,
    inventory: (r.inventory as string | null) ?? null, routes: (r.routes as string | null) ?? null,
  };
}

function titleOf(r: Row): TitleRow {
  return { titleId: r.title_id as string, name: r.name as string, regions: JSON.parse(r.regions as string), manifest: r.manifest as string };
}

function sessionOf(r: Row): SessionRow {
  return {
    sessionId: r.session_id as string, accountId: r.account_id as string, profileId: r.profile_id as string,
    titleId: r.title_id as string, device: r.device as string, clientIp: r.client_ip as string,
    startedAt: r.started_at as number, lastHeartbeatAt: r.last_heartbeat_at as number,
    endedAt: (r.ended_at as number | null) ?? null, positionMs: r.position_ms as number,
    delivery: r.delivery as string,
  };
}

function peerKeyOf(r: Row): PeerKeyRow {
  return { kid: r.kid as string, x: r.x as string, d: r.d as string, createdAt: r.created_at as number };
}

export class SqliteRepository implements Repository {
  #db: Database.Database;
  #checkpointer: SqliteCheckpointer | undefined;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    migrate(this.#db);
    if (path !== ':memory:') this.#checkpointer = new SqliteCheckpointer(this.#db, path);
  }

  // Each SQL text is prepared once: preparing costs as much as running a small query, and a
  // playback start runs five of them.
  #statements = new Map<string, Database.Statement>();
  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#db.prepare(sql)));
    return s;
  }
  #all(sql: string, ...args: unknown[]): Row[] {
    return this.#stmt(sql).all(...args) as Row[];
  }
  #get(sql: string, ...args: unknown[]): Row | undefined {
    return this.#stmt(sql).get(...args) as Row | undefined;
  }
  #run(sql: string, ...args: unknown[]): number {
    return this.#stmt(sql).run(...args).changes;
  }

  async putSite(s: Site): Promise<void> {
    this.#run(
      `INSERT INTO sites VALUES (?,?,?,?,?,?) ON CONFLICT(site_id) DO UPDATE SET kind=excluded.kind,
       region=excluded.region, time_zone=excluded.time_zone, fill_start=excluded.fill_start, fill_end=excluded.fill_end`,
      s.siteId, s.kind, s.region, s.timeZone, s.fillWindow.start, s.fillWindow.end,
    );
  }
  async listSites(): Promise<Site[]> { return this.#all('SELECT * FROM sites ORDER BY site_id').map(siteOf); }
  async getSite(siteId: string): Promise<Site | undefined> {
    const r = this.#get('SELECT * FROM sites WHERE site_id = ?', siteId);
    return r && siteOf(r);
  }

  async addEnrollmentToken(tokenHash: string, siteId: string, expiresAt: number): Promise<void> {
    this.#run('INSERT OR IGNORE INTO enrollment_tokens (token_hash, site_id, expires_at) VALUES (?,?,?)', tokenHash, siteId, expiresAt);
  }

  async enroll(
    tokenHash: string, siteId: string | undefined,
    a: Omit<ApplianceRow, 'siteId' | 'operatorDrain' | 'snapshot' | 'inventory' | 'routes'> & { credentialHash: string }, now: number,
  ): Promise<EnrollResult & { siteId?: string }> {
    return this.#db.transaction((): EnrollResult & { siteId?: string } => {
      const t = this.#get('SELECT * FROM enrollment_tokens WHERE token_hash = ?', tokenHash);
      if (!t) return { ok: false, reason: 'unknown' };
      if (t.used_at !== null) return { ok: false, reason: 'used' };
      if ((t.expires_at as number) <= now) return { ok: false, reason: 'expired' };
      if (siteId !== undefined && siteId !== t.site_id) return { ok: false, reason: 'wrong-site' };
      this.#run('UPDATE enrollment_tokens SET used_at = ?, appliance_id = ? WHERE token_hash = ?', now, a.applianceId, tokenHash);
      this.#run(
        'INSERT INTO appliances (appliance_id, site_id, name, public_url, credential_hash, created_at) VALUES (?,?,?,?,?,?)',
        a.applianceId, t.site_id, a.name, a.publicUrl, a.credentialHash, a.createdAt,
      );
      return { ok: true, siteId: t.site_id as string };
    })();
  }

  async listAppliances(): Promise<ApplianceRow[]> { return this.#all('SELECT * FROM appliances ORDER BY appliance_id').map(applianceOf); }
  async setOperatorDrain(applianceId: string, drain: boolean): Promise<boolean> {
    return this.#run('UPDATE appliances SET operator_drain = ? WHERE appliance_id = ?', drain ? 1 : 0, applianceId) === 1;
  }
  async saveSnapshots(snapshots: ApplianceSnapshot[]): Promise<void> {
    const state = this.#db.prepare('UPDATE appliances SET snapshot = ? WHERE appliance_id = ?');
    const inventory = this.#db.prepare('UPDATE appliances SET inventory = ? WHERE appliance_id = ?');
    // a full set supersedes the appliance's earlier entries and the routes column from before the log
    const dropLog = this.#db.prepare('DELETE FROM route_log WHERE appliance_id = ?');
    const dropColumn = this.#db.prepare('UPDATE appliances SET routes = NULL WHERE appliance_id = ? AND routes IS NOT NULL');
    const log = this.#db.prepare('INSERT INTO route_log (appliance_id, full, body) VALUES (?,?,?)');
    this.#db.transaction(() => {
      for (const s of snapshots) {
        state.run(s.state, s.applianceId);
        if (s.inventory !== undefined) inventory.run(s.inventory, s.applianceId);
        for (const e of s.routeLog ?? []) {
          if (e.full) {
            dropLog.run(s.applianceId);
            dropColumn.run(s.applianceId);
          }
          log.run(s.applianceId, e.full ? 1 : 0, e.body);
        }
      }
    })();
  }
  async routeLog(): Promise<RouteLogRow[]> {
    return this.#all('SELECT appliance_id, full, body FROM route_log ORDER BY id')
      .map((r) => ({ applianceId: r.appliance_id as string, full: r.full === 1, body: r.body as Buffer }));
  }

  async putTitle(t: TitleRow, keys: SealedKey[], now: number): Promise<void> {
    this.#db.transaction(() => {
      this.#run(
        `INSERT INTO titles VALUES (?,?,?,?,?) ON CONFLICT(title_id) DO UPDATE SET name=excluded.name,
         regions=excluded.regions, manifest=excluded.manifest, updated_at=excluded.updated_at`,
        t.titleId, t.name, JSON.stringify(t.regions), t.manifest, now,
      );
      this.#run('DELETE FROM title_keys WHERE title_id = ?', t.titleId);
      for (const k of keys) this.#run('INSERT INTO title_keys VALUES (?,?,?,?)', k.kid, k.titleId, k.label, k.sealed);
    })();
  }
  async getTitle(titleId: string): Promise<TitleRow | undefined> {
    const r = this.#get('SELECT * FROM titles WHERE title_id = ?', titleId);
    return r && titleOf(r);
  }
  async listTitles(): Promise<TitleRow[]> { return this.#all('SELECT * FROM titles ORDER BY title_id').map(titleOf); }
  async keysOfTitle(titleId: string): Promise<SealedKey[]> {
    return this.#all('SELECT * FROM title_keys WHERE title_id = ?', titleId).map((r) => ({
      kid: r.kid as string, titleId: r.title_id as string, label: r.label as string, sealed: r.key_sealed as Buffer,
    }));
  }

  async addAccount(a: Account, tokenHash: string): Promise<void> {
    this.#run('INSERT INTO accounts VALUES (?,?,?,?,?,?)', a.accountId, a.name, a.plan, a.region, a.status, tokenHash);
  }
  async accountByToken(tokenHash: string): Promise<Account | undefined> {
    const r = this.#get('SELECT * FROM accounts WHERE token_hash = ?', tokenHash);
    return r && {
      accountId: r.account_id as string, name: r.name as string, plan: r.plan as string,
      region: r.region as string, status: r.status as Account['status'],
    };
  }
  async addProfile(p: Profile): Promise<void> { this.#run('INSERT INTO profiles VALUES (?,?,?)', p.profileId, p.accountId, p.name); }
  async getProfile(profileId: string): Promise<Profile | undefined> {
    const r = this.#get('SELECT * FROM profiles WHERE profile_id = ?', profileId);
    return r && { profileId: r.profile_id as string, accountId: r.account_id as string, name: r.name as string };
  }

  async listProfiles(accountId: string): Promise<Profile[]> {
    return this.#all('SELECT * FROM profiles WHERE account_id = ? ORDER BY rowid', accountId)
      .map((r) => ({ profileId: r.profile_id as string, accountId: r.account_id as string, name: r.name as string }));
  }

  // Session starts are committed in groups: every start asked for in one event-loop turn (all the
  // requests read in one poll) shares one write transaction, run on the next check phase. A commit
  // costs far more than the count and the insert (~90 µs against ~10 on a shared machine), so this
  // is most of a playback start's store cost under load. The group runs start by start inside the
  // one IMMEDIATE transaction, so each count sees the starts before it: the limit stays exact. The
  // count is answered from #live (live-sessions.ts), and the profile's resume position is read by
  // the insert itself, inside the transaction.
  #pendingStarts: { s: NewSession; limit: number; liveSince: number; done: (r: StartResult | Error) => void }[] = [];
  #startsFlushed: Promise<void> | null = null;
  #live = new LiveSessions();

  startSession(s: NewSession, limit: number, liveSince: number): Promise<StartResult> {
    return new Promise((resolve, reject) => {
      this.#pendingStarts.push({ s, limit, liveSince, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      this.#startsFlushed ??= new Promise((flushed) => setImmediate(() => { this.#flushStarts(); flushed(); }));
    });
  }

  #flushStarts(): void {
    const group = this.#pendingStarts;
    this.#pendingStarts = [];
    this.#startsFlushed = null;
    const results: (StartResult | Error)[] = [];
    const added: string[] = [];
    try {
      this.#db.transaction(() => {
        // A failed statement (a duplicate id) undoes only itself; the others still commit.
        for (const p of group) {
          try {
            const r = this.#startOne(p.s, p.limit, p.liveSince);
            if (r.ok) added.push(p.s.sessionId);
            results.push(r);
          } catch (e) { results.push(e as Error); }
        }
      }).immediate();
    } catch (e) {
      // the commit itself failed: nothing of the group was stored
      for (const id of added) this.#live.remove(id);
      for (const p of group) p.done(e as Error);
      return;
    }
    group.forEach((p, i) => p.done(results[i]));
  }

  #startOne(s: NewSession, limit: number, liveSince: number): StartResult {
    const live = this.#liveDevices(s.accountId, liveSince);
    if (live.length >= limit) return { ok: false, devices: live };
    const r = this.#get(
      `INSERT INTO sessions (session_id, account_id, profile_id, title_id, device, client_ip, started_at,
       last_heartbeat_at, position_ms, delivery) VALUES (?,?,?,?,?,?,?,?,
       coalesce((SELECT position_ms FROM resume_positions WHERE profile_id = ? AND title_id = ?), 0), ?) RETURNING position_ms`,
      s.sessionId, s.accountId, s.profileId, s.titleId, s.device, s.clientIp, s.startedAt, s.lastHeartbeatAt, s.profileId, s.titleId,
      s.delivery,
    )!;
    this.#live.add({ sessionId: s.sessionId, accountId: s.accountId, device: s.device, startedAt: s.startedAt, lastHeartbeatAt: s.lastHeartbeatAt });
    return { ok: true, positionMs: r.position_ms as number };
  }

  /** the account's live devices, oldest start first: from #live, or from the table when #live cannot answer */
  #liveDevices(accountId: string, liveSince: number): string[] {
    if (!this.#live.loaded) {
      this.#live.load(liveSince, (since) => this.#all(
        'SELECT session_id, account_id, device, started_at, last_heartbeat_at FROM sessions WHERE ended_at IS NULL AND last_heartbeat_at >= ? ORDER BY started_at', since,
      ).map((r) => ({
        sessionId: r.session_id as string, accountId: r.account_id as string, device: r.device as string,
        startedAt: r.started_at as number, lastHeartbeatAt: r.last_heartbeat_at as number,
      })));
    }
    return this.#live.devices(accountId, liveSince) ?? this.#all(
      'SELECT device FROM sessions WHERE account_id = ? AND ended_at IS NULL AND last_heartbeat_at >= ? ORDER BY started_at', accountId, liveSince,
    ).map((r) => r.device as string);
  }
  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    const r = this.#get('SELECT * FROM sessions WHERE session_id = ?', sessionId);
    return r && sessionOf(r);
  }
  async listLiveSessions(liveSince: number, limit: number): Promise<LiveSessionRow[]> {
    return this.#all(
      'SELECT * FROM sessions WHERE ended_at IS NULL AND last_heartbeat_at >= ? ORDER BY started_at DESC LIMIT ?', liveSince, limit,
    ).map((r) => ({ ...sessionOf(r), bitrateKbps: (r.bitrate_kbps as number | null) ?? null, bufferMs: (r.buffer_ms as number | null) ?? null }));
  }
  async heartbeat(sessionId: string, at: number, positionMs: number, bitrateKbps: number, bufferMs: number): Promise<void> {
    const r = this.#db.transaction(() => {
      const updated = this.#get(
        `UPDATE sessions SET last_heartbeat_at = ?, position_ms = ?, bitrate_kbps = ?, buffer_ms = ? WHERE session_id = ?
         RETURNING account_id, device, started_at, ended_at`,
        at, positionMs, bitrateKbps, bufferMs, sessionId,
      );
      this.#run(
        `INSERT INTO resume_positions (profile_id, title_id, position_ms, updated_at)
         SELECT profile_id, title_id, ?, ? FROM sessions WHERE session_id = ?
         ON CONFLICT(profile_id, title_id) DO UPDATE SET position_ms = excluded.position_ms, updated_at = excluded.updated_at`,
        positionMs, at, sessionId,
      );
      return updated;
    })();
    // once committed; a session #live let go after it lapsed is live again
    if (r && r.ended_at === null && !this.#live.heartbeat(sessionId, at)) {
      this.#live.add({ sessionId, accountId: r.account_id as string, device: r.device as string, startedAt: r.started_at as number, lastHeartbeatAt: at });
    }
  }
  async endSession(sessionId: string, at: number): Promise<void> {
    this.#run('UPDATE sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL', at, sessionId);
    this.#live.remove(sessionId);
  }
  async resumePosition(profileId: string, titleId: string): Promise<number> {
    const r = this.#get('SELECT position_ms FROM resume_positions WHERE profile_id = ? AND title_id = ?', profileId, titleId);
    return (r?.position_ms as number | undefined) ?? 0;
  }

  async addViews(deltas: PopularityRow[], halfLifeMs: number): Promise<void> {
    // Both sides are decayed to the later time, so deltas may arrive in any order.
    const upsert = this.#db.prepare(
      `INSERT INTO popularity (region, file_id, views, at) VALUES (?,?,?,?) ON CONFLICT(region, file_id) DO UPDATE SET
       views = popularity.views * pow(0.5, max(excluded.at - popularity.at, 0) / ?1)
             + excluded.views * pow(0.5, max(popularity.at - excluded.at, 0) / ?1),
       at = max(popularity.at, excluded.at)`.replaceAll('?1', String(halfLifeMs)),
    );
    this.#db.transaction(() => {
      for (const d of deltas) upsert.run(d.region, d.fileId, d.views, d.at);
    })();
  }
  async listPopularity(): Promise<PopularityRow[]> {
    return this.#all('SELECT region, file_id, views, at FROM popularity').map((r) => ({
      region: r.region as string, fileId: r.file_id as string, views: r.views as number, at: r.at as number,
    }));
  }
  async putPromotion(p: Promotion, now: number): Promise<void> {
    this.#run(
      `INSERT INTO promotions VALUES (?,?,?,?,?) ON CONFLICT(title_id) DO UPDATE SET regions=excluded.regions,
       expected_views=excluded.expected_views, release_at=excluded.release_at, updated_at=excluded.updated_at`,
      p.titleId, JSON.stringify(p.regions), p.expectedViews, p.releaseAt, now,
    );
  }
  async deletePromotion(titleId: string): Promise<boolean> { return this.#run('DELETE FROM promotions WHERE title_id = ?', titleId) === 1; }
  async listPromotions(): Promise<Promotion[]> {
    return this.#all('SELECT * FROM promotions ORDER BY title_id').map((r) => ({
      titleId: r.title_id as string, regions: JSON.parse(r.regions as string), expectedViews: r.expected_views as number,
      releaseAt: r.release_at as number,
    }));
  }

  async listPeerKeys(): Promise<PeerKeyRow[]> {
    return this.#all('SELECT * FROM peer_keys ORDER BY created_at, kid').map(peerKeyOf);
  }
  async addPeerKey(k: PeerKeyRow): Promise<PeerKeyRow[]> {
    this.#run('INSERT OR IGNORE INTO peer_keys VALUES (?,?,?,?)', k.kid, k.x, k.d, k.createdAt);
    return this.#all('SELECT * FROM peer_keys ORDER BY created_at, kid').map(peerKeyOf);
  }

  async listSiteFill(): Promise<SiteFill[]> {
    return this.#all('SELECT * FROM site_fill ORDER BY site_id').map((r) => ({
      siteId: r.site_id as string, rateLimitBps: (r.rate_limit_bps as number | null) ?? null,
      peerServeRateBps: (r.peer_serve_bps as number | null) ?? null, fillNowUntil: (r.fill_now_until as number | null) ?? null,
    }));
  }
  async putSiteFill(f: SiteFill): Promise<void> {
    this.#run(
      `INSERT INTO site_fill VALUES (?,?,?,?) ON CONFLICT(site_id) DO UPDATE SET rate_limit_bps=excluded.rate_limit_bps,
       peer_serve_bps=excluded.peer_serve_bps, fill_now_until=excluded.fill_now_until`,
      f.siteId, f.rateLimitBps, f.peerServeRateBps, f.fillNowUntil,
    );
  }
  async listApplianceFillNow(): Promise<ApplianceFillNow[]> {
    return this.#all('SELECT * FROM appliance_fill ORDER BY appliance_id').map((r) => ({
      applianceId: r.appliance_id as string, fillNowUntil: (r.fill_now_until as number | null) ?? null,
    }));
  }
  async setApplianceFillNow(applianceId: string, until: number | null): Promise<void> {
    this.#run(
      'INSERT INTO appliance_fill VALUES (?,?) ON CONFLICT(appliance_id) DO UPDATE SET fill_now_until=excluded.fill_now_until',
      applianceId, until,
    );
  }

  async setImageTarget(siteId: string, t: SiteImageTarget | null): Promise<void> {
    if (t === null) this.#run('DELETE FROM site_images WHERE site_id = ?', siteId);
    else this.#run(
      `INSERT INTO site_images VALUES (?,?,?,?) ON CONFLICT(site_id) DO UPDATE SET version=excluded.version,
       manifest_url=excluded.manifest_url, updated_at=excluded.updated_at`, siteId, t.version, t.manifestUrl, t.updatedAt,
    );
  }
  async imageTarget(siteId: string): Promise<SiteImageTarget | null> {
    const r = this.#get('SELECT * FROM site_images WHERE site_id = ?', siteId);
    return r ? { version: r.version as string, manifestUrl: r.manifest_url as string, updatedAt: r.updated_at as number } : null;
  }
  async saveApplianceImage(row: ApplianceImageRow): Promise<void> {
    this.#run(
      `INSERT INTO appliance_images VALUES (?,?,?,?) ON CONFLICT(appliance_id) DO UPDATE SET
       status=coalesce(excluded.status, status), history=coalesce(excluded.history, history), turnup=coalesce(excluded.turnup, turnup)`,
      row.applianceId, row.status, row.history, row.turnup,
    );
  }
  async applianceImage(applianceId: string): Promise<ApplianceImageRow | undefined> {
    const r = this.#get('SELECT * FROM appliance_images WHERE appliance_id = ?', applianceId);
    return r && { applianceId, status: r.status as string | null, history: r.history as string | null, turnup: r.turnup as string | null };
  }

  // One process owns the file: nobody else writes, so there is nothing to follow.
  async changeVersion(): Promise<number> { return 0; }
  async changesSince(since: number): Promise<Changes> {
    return { version: since, sites: [], titles: [], appliances: [], routeLog: [], siteFill: [], applianceFillNow: [] };
  }
  async watchChanges(): Promise<() => Promise<void>> { return async () => {}; }

  // ---- State hygiene: credential rotation and revocation, the URL-token key ring, pruning ----
  // (issue 13 item 4; the interface's block of the same name)

  async authenticateCredential(h: string): Promise<CredentialMatch | undefined> {
    const r = this.#get(
      `SELECT appliance_id, credential_hash, next_credential_hash, rotate_requested_at FROM appliances
       WHERE credential_hash = ? OR next_credential_hash = ? OR revoked_credential_hash = ?`, h, h, h,
    );
    if (!r) return undefined;
    const state = r.credential_hash === h ? 'current' : r.next_credential_hash === h ? 'next' : 'revoked';
    return { applianceId: r.appliance_id as string, state, rotateRequested: r.rotate_requested_at !== null };
  }
  async requestCredentialRotation(applianceId: string, at: number): Promise<boolean> {
    return this.#run('UPDATE appliances SET rotate_requested_at = ? WHERE appliance_id = ? AND credential_revoked_at IS NULL', at, applianceId) === 1;
  }
  async offerNextCredential(applianceId: string, nextHash: string): Promise<void> {
    this.#run('UPDATE appliances SET next_credential_hash = ? WHERE appliance_id = ? AND credential_revoked_at IS NULL', nextHash, applianceId);
  }
  async promoteNextCredential(applianceId: string): Promise<void> {
    this.#run(
      `UPDATE appliances SET credential_hash = next_credential_hash, next_credential_hash = NULL, rotate_requested_at = NULL
       WHERE appliance_id = ? AND next_credential_hash IS NOT NULL AND credential_revoked_at IS NULL`, applianceId,
    );
  }
  async revokeCredential(applianceId: string, at: number): Promise<boolean> {
    return this.#run(
      `UPDATE appliances SET revoked_credential_hash = credential_hash, credential_hash = 'revoked:' || appliance_id,
       next_credential_hash = NULL, rotate_requested_at = NULL, credential_revoked_at = ?, operator_drain = 1
       WHERE appliance_id = ? AND credential_revoked_at IS NULL`, at, applianceId,
    ) === 1;
  }

  async listUrlTokenKeys(): Promise<UrlTokenKeyRow[]> {
    return this.#all('SELECT * FROM url_token_keys ORDER BY active_from, kid').map((r) => ({
      kid: r.kid as string, secret: r.secret as string, createdAt: r.created_at as number, activeFrom: r.active_from as number,
    }));
  }
  async addUrlTokenKey(k: UrlTokenKeyRow): Promise<void> {
    this.#run('INSERT OR IGNORE INTO url_token_keys VALUES (?,?,?,?)', k.kid, k.secret, k.createdAt, k.activeFrom);
  }
  async deleteUrlTokenKey(kid: string): Promise<void> { this.#run('DELETE FROM url_token_keys WHERE kid = ?', kid); }

  async pruneSessions(before: number): Promise<number> {
    const n = this.#run(
      'DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR (ended_at IS NULL AND last_heartbeat_at < ?)', before, before,
    );
    this.#live.prune(before);
    return n;
  }
  async pruneEnrollmentTokens(beforeSec: number): Promise<number> {
    // used_at is in unix seconds, as enroll() writes it
    return this.#run('DELETE FROM enrollment_tokens WHERE (used_at IS NOT NULL AND used_at < ?) OR expires_at < ?', beforeSec, beforeSec);
  }

  // ---- TLS certificates for the appliances' serving hostnames (the interface's block of the same name) ----
  async putTlsCertificate(c: TlsCertificateRow): Promise<void> {
    this.#run('INSERT OR REPLACE INTO tls_certificates VALUES (?,?,?,?,?,?,?)',
      c.fingerprint, c.certPem, c.keySealed, JSON.stringify(c.hosts), c.notBefore, c.notAfter, c.uploadedAt);
  }
  async listTlsCertificates(): Promise<TlsCertificateRow[]> {
    return this.#all('SELECT * FROM tls_certificates ORDER BY uploaded_at, fingerprint').map((r) => ({
      fingerprint: r.fingerprint as string, certPem: r.cert_pem as string, keySealed: r.key_sealed as Buffer,
      hosts: JSON.parse(r.hosts as string) as string[], notBefore: r.not_before as number, notAfter: r.not_after as number,
      uploadedAt: r.uploaded_at as number,
    }));
  }
  async deleteTlsCertificate(fingerprint: string): Promise<boolean> {
    return this.#run('DELETE FROM tls_certificates WHERE fingerprint = ?', fingerprint) > 0;
  }

  async close(): Promise<void> {
    await this.#startsFlushed; // starts already asked for are answered, not lost
    await this.#checkpointer?.stop();
    this.#db.close(); // the last connection: SQLite checkpoints the rest of the WAL and removes it
  }
}
