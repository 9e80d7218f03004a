// The networked store: PostgreSQL through a `pg` pool, for several control instances on one
// database (README "Several control instances"). Atomic calls are transactions on one pooled
// connection. The stream limit holds across instances because startSession takes a transaction
// advisory lock on the account before it counts: a second start for the account, on any
// instance, waits until the first has committed and then counts its session.
//
// Change feed: every write of an appliance, site, title, route-log entry or fill override takes a version from change_seq under
// a transaction advisory lock (so versions become visible in the order they were given: a reader
// that has seen version v has seen every version below it), marks the row with this instance's
// id, and NOTIFYs `edgebox_changes`; the other instances then read the rows past their last
// version (changesSince). A lost LISTEN connection is reopened and followed by one catch-up read.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePg } from './pg-migrations.ts';
import type {
  Account, ApplianceFillNow, ApplianceImageRow, ApplianceRow, RouteLogRow, ApplianceSnapshot, Changes, CredentialMatch, EnrollResult, LiveSessionRow, PeerKeyRow, PopularityRow,
  Profile, Promotion, Repository, SealedKey, NewSession, SessionRow, Site, SiteFill, SiteImageTarget, StartResult, TitleRow, TlsCertificateRow, UrlTokenKeyRow,
} from './repository.ts';

type Row = Record<string, any>;
type Db = pg.Pool | pg.PoolClient;

const CHANNEL = 'edgebox_changes';
/** transaction advisory lock keys (two-int form): class 0x6564 "ed" key 1 orders versions; class 0x6565 (in edgebox_start_session) per account */
const LOCK_CLASS = 0x6564;
const VERSION_LOCK = 1;
const RECONNECT_MS = 1000;

// BIGINT columns hold epoch milliseconds and counters, all below 2^53: read them as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return Number;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PgOptions { url: string; poolSize: number }

function siteOf(r: Row): Site {
  return { siteId: r.site_id, kind: r.kind, region: r.region, timeZone: r.time_zone, fillWindow: { start: r.fill_start, end: r.fill_end } };
}

function applianceOf(r: Row): ApplianceRow {
  return {
    applianceId: r.appliance_id, siteId: r.site_id, name: r.name, publicUrl: r.public_url, createdAt: r.created_at,
    operatorDrain: r.operator_drain, snapshot: r.snapshot ?? null, inventory: r.inventory ?? null, routes: r.routes ?? null,
  };
}

function titleOf(r: Row): TitleRow {
  return { titleId: r.title_id, name: r.name, regions: JSON.parse(r.regions), manifest: r.manifest };
}

function sessionOf(r: Row): SessionRow {
  return {
    sessionId: r.session_id, accountId: r.account_id, profileId: r.profile_id, titleId: r.title_id, device: r.device,
    clientIp: r.client_ip, startedAt: r.started_at, lastHeartbeatAt: r.last_heartbeat_at, endedAt: r.ended_at ?? null,
    positionMs: r.position_ms, delivery: r.delivery,
  };
}

function routeEntryOf(r: Row): RouteLogRow { return { applianceId: r.appliance_id, full: r.full_set, body: r.body }; }
function siteFillOf(r: Row): SiteFill {
  return { siteId: r.site_id, rateLimitBps: r.rate_limit_bps ?? null, peerServeRateBps: r.peer_serve_bps ?? null, fillNowUntil: r.fill_now_until ?? null };
}
function applianceFillOf(r: Row): ApplianceFillNow { return { applianceId: r.appliance_id, fillNowUntil: r.fill_now_until ?? null }; }
function peerKeyOf(r: Row): PeerKeyRow { return { kid: r.kid, x: r.x, d: r.d, createdAt: r.created_at }; }
function profileOf(r: Row): Profile { return { profileId: r.profile_id, accountId: r.account_id, name: r.name }; }

/**
 * In saveSnapshots: the appliance's stored state came from a later report than the one being
 * written (Fleet.adopt's rule, from the stored side), so the row is left as it is. Two instances
 * hear one box in turn; if B's write of report 7 commits after A's of report 8, B must not
 * overwrite it: B would skip the row as its own and never learn of report 8 (a box shown failing
 * on B after it recovered). The states are Fleet.stateSnapshot's JSON; with no boot on either
 * side (never reported), the write goes ahead.
 */
const STORED_STATE_IS_NEWER = `coalesce(CASE
    WHEN a.snapshot IS NULL THEN false
    WHEN a.snapshot::jsonb->>'bootId' IS NULL AND u.state::jsonb->>'bootId' IS NULL THEN false
    WHEN a.snapshot::jsonb->>'bootId' = u.state::jsonb->>'bootId'
      THEN (a.snapshot::jsonb->>'seq')::bigint > (u.state::jsonb->>'seq')::bigint
    ELSE u.state::jsonb->>'bootId' IS NULL
      OR coalesce(a.snapshot::jsonb->'pastBoots' ? (u.state::jsonb->>'bootId'), false)
      OR (a.snapshot::jsonb->>'bootId' IS NOT NULL
        AND NOT coalesce(u.state::jsonb->'pastBoots' ? (a.snapshot::jsonb->>'bootId'), false)
        AND coalesce((a.snapshot::jsonb->>'lastReportAt')::float8 > (u.state::jsonb->>'lastReportAt')::float8, false))
  END, false)`;

export class PgRepository implements Repository {
  /** marks this instance's writes, so its own change notices are not read back */
  readonly instanceId = randomBytes(8).toString('hex');
  #pool: pg.Pool;
  #url: string;

  private constructor(o: PgOptions) {
    this.#url = o.url;
    this.#pool = new pg.Pool({ connectionString: o.url, max: o.poolSize, types });
    // An idle pooled connection that the server drops is replaced on next use; without a
    // listener the pool's 'error' event would end the process.
    this.#pool.on('error', () => {});
  }

  /** Connect and migrate (two instances starting together: one migrates, the other waits). */
  static async open(o: PgOptions): Promise<PgRepository> {
    const r = new PgRepository(o);
    try {
      await migratePg(r.#pool);
    } catch (err) {
      await r.#pool.end();
      throw err;
    }
    return r;
  }

  async #rows(sql: string, args: unknown[] = [], db: Db = this.#pool): Promise<Row[]> {
    return (await db.query(sql, args)).rows;
  }
  async #row(sql: string, args: unknown[] = [], db: Db = this.#pool): Promise<Row | undefined> {
    return (await db.query(sql, args)).rows[0];
  }
  async #run(sql: string, args: unknown[] = [], db: Db = this.#pool): Promise<number> {
    return (await db.query(sql, args)).rowCount ?? 0;
  }

  /** `fn` in one transaction on one connection (`begin` may set its mode); rolled back if it throws. */
  async #tx<T>(fn: (db: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const db = await this.#pool.connect();
    try {
      await db.query(begin);
      const out = await fn(db);
      await db.query('COMMIT');
      return out;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db.release();
    }
  }

  /** Inside a transaction: the next change version (in commit order) and a notice to the others at commit. */
  async #version(db: pg.PoolClient): Promise<number> {
    await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, VERSION_LOCK]);
    const r = await db.query<{ v: number }>(`SELECT nextval('change_seq') AS v, pg_notify($1, $2)`, [CHANNEL, this.instanceId]);
    return r.rows[0].v;
  }

  async putSite(s: Site): Promise<void> {
    await this.#tx(async (db) => {
      const v = await this.#version(db);
      await this.#run(
        `INSERT INTO sites (site_id, kind, region, time_zone, fill_start, fill_end, version, updated_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
         ON CONFLICT (site_id) DO UPDATE SET kind=excluded.kind, region=excluded.region, time_zone=excluded.time_zone,
         fill_start=excluded.fill_start, fill_end=excluded.fill_end, version=excluded.version, updated_by=excluded.updated_by`,
        [s.siteId, s.kind, s.region, s.timeZone, s.fillWindow.start, s.fillWindow.end, v, this.instanceId], db,
      );
    });
  }
  async listSites(): Promise<Site[]> { return (await this.#rows('SELECT * FROM sites ORDER BY site_id')).map(siteOf); }
  async getSite(siteId: string): Promise<Site | undefined> {
    const r = await this.#row('SELECT * FROM sites WHERE site_id = $1', [siteId]);
    return r && siteOf(r);
  }

  async addEnrollmentToken(tokenHash: string, siteId: string, expiresAt: number): Promise<void> {
    await this.#run('INSERT INTO enrollment_tokens (token_hash, site_id, expires_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING', [tokenHash, siteId, expiresAt]);
  }

  async enroll(
    tokenHash: string, siteId: string | undefined,
    a: Omit<ApplianceRow, 'siteId' | 'operatorDrain' | 'snapshot' | 'inventory' | 'routes'> & { credentialHash: string }, now: number,
  ): Promise<EnrollResult & { siteId?: string }> {
    return this.#tx(async (db): Promise<EnrollResult & { siteId?: string }> => {
      // FOR UPDATE: two instances presenting one token serialise here; the second sees it used.
      const t = await this.#row('SELECT * FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE', [tokenHash], db);
      if (!t) return { ok: false, reason: 'unknown' };
      if (t.used_at !== null) return { ok: false, reason: 'used' };
      if (t.expires_at <= now) return { ok: false, reason: 'expired' };
      if (siteId !== undefined && siteId !== t.site_id) return { ok: false, reason: 'wrong-site' };
      await this.#run('UPDATE enrollment_tokens SET used_at = $1, appliance_id = $2 WHERE token_hash = $3', [now, a.applianceId, tokenHash], db);
      const v = await this.#version(db);
      await this.#run(
        `INSERT INTO appliances (appliance_id, site_id, name, public_url, credential_hash, created_at, version, updated_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
        [a.applianceId, t.site_id, a.name, a.publicUrl, a.credentialHash, a.createdAt, v, this.instanceId], db,
      );
      return { ok: true, siteId: t.site_id };
    });
  }

  async listAppliances(): Promise<ApplianceRow[]> {
    return (await this.#rows('SELECT * FROM appliances ORDER BY appliance_id')).map(applianceOf);
  }
  async setOperatorDrain(applianceId: string, drain: boolean): Promise<boolean> {
    return this.#tx(async (db) => {
      const v = await this.#version(db);
      return await this.#run('UPDATE appliances SET operator_drain = $1, version = $2, updated_by = $3 WHERE appliance_id = $4',
        [drain, v, this.instanceId, applianceId], db) === 1;
    });
  }
  async saveSnapshots(snapshots: ApplianceSnapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    // One statement for the batch; NULL inventory = absent (left as it is).
    const ids = snapshots.map((s) => s.applianceId), states = snapshots.map((s) => s.state);
    const inventories = snapshots.map((s) => s.inventory ?? null);
    const log = snapshots.flatMap((s) => (s.routeLog ?? []).map((e) => ({ id: s.applianceId, ...e })));
    const fullIds = log.filter((e) => e.full).map((e) => e.id);
    await this.#tx(async (db) => {
      const v = await this.#version(db);
      await this.#run(
        `UPDATE appliances a SET snapshot = u.state, version = $4, updated_by = $5,
           inventory = coalesce(u.inventory, a.inventory),
           inventory_version = CASE WHEN u.inventory IS NULL THEN a.inventory_version ELSE $4 END,
           routes = CASE WHEN u.id = ANY($6::text[]) THEN NULL ELSE a.routes END
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, state, inventory)
         WHERE a.appliance_id = u.id AND NOT ${STORED_STATE_IS_NEWER}`,
        [ids, states, inventories, v, this.instanceId, fullIds], db,
      );
      if (log.length === 0) return;
      // A full set supersedes the appliance's earlier entries (Control writes it first of the appliance's entries).
      if (fullIds.length > 0) await this.#run('DELETE FROM route_log WHERE appliance_id = ANY($1::text[])', [fullIds], db);
      await this.#run(
        `INSERT INTO route_log (appliance_id, full_set, body, version, updated_by)
         SELECT id, f, b, $4, $5 FROM unnest($1::text[], $2::bool[], $3::bytea[]) WITH ORDINALITY AS u(id, f, b, n) ORDER BY n`,
        [log.map((e) => e.id), log.map((e) => e.full), log.map((e) => e.body), v, this.instanceId], db,
      );
    });
  }
  async routeLog(): Promise<RouteLogRow[]> {
    return (await this.#rows('SELECT appliance_id, full_set, body FROM route_log ORDER BY id')).map(routeEntryOf);
  }

  async putTitle(t: TitleRow, keys: SealedKey[], now: number): Promise<void> {
    await this.#tx(async (db) => {
      const v = await this.#version(db);
      await this.#run(
        `INSERT INTO titles (title_id, name, regions, manifest, updated_at, version, updated_by) VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (title_id) DO UPDATE SET name=excluded.name, regions=excluded.regions, manifest=excluded.manifest,
         updated_at=excluded.updated_at, version=excluded.version, updated_by=excluded.updated_by`,
        [t.titleId, t.name, JSON.stringify(t.regions), t.manifest, now, v, this.instanceId], db,
      );
      await this.#run('DELETE FROM title_keys WHERE title_id = $1', [t.titleId], db);
      if (keys.length > 0) {
        await this.#run(
          'INSERT INTO title_keys (kid, title_id, label, key_sealed) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])',
          [keys.map((k) => k.kid), keys.map((k) => k.titleId), keys.map((k) => k.label), keys.map((k) => k.sealed)], db,
        );
      }
    });
  }
  async getTitle(titleId: string): Promise<TitleRow | undefined> {
    const r = await this.#row('SELECT * FROM titles WHERE title_id = $1', [titleId]);
    return r && titleOf(r);
  }
  async listTitles(): Promise<TitleRow[]> { return (await this.#rows('SELECT * FROM titles ORDER BY title_id')).map(titleOf); }
  async keysOfTitle(titleId: string): Promise<SealedKey[]> {
    return (await this.#rows('SELECT * FROM title_keys WHERE title_id = $1', [titleId]))
      .map((r) => ({ kid: r.kid, titleId: r.title_id, label: r.label, sealed: r.key_sealed }));
  }

  async addAccount(a: Account, tokenHash: string): Promise<void> {
    await this.#run('INSERT INTO accounts VALUES ($1,$2,$3,$4,$5,$6)', [a.accountId, a.name, a.plan, a.region, a.status, tokenHash]);
  }
  async accountByToken(tokenHash: string): Promise<Account | undefined> {
    const r = await this.#row('SELECT * FROM accounts WHERE token_hash = $1', [tokenHash]);
    return r && { accountId: r.account_id, name: r.name, plan: r.plan, region: r.region, status: r.status };
  }
  async addProfile(p: Profile): Promise<void> {
    await this.#run('INSERT INTO profiles (profile_id, account_id, name) VALUES ($1,$2,$3)', [p.profileId, p.accountId, p.name]);
  }
  async getProfile(profileId: string): Promise<Profile | undefined> {
    const r = await this.#row('SELECT * FROM profiles WHERE profile_id = $1', [profileId]);
    return r && profileOf(r);
  }
  async listProfiles(accountId: string): Promise<Profile[]> {
    return (await this.#rows('SELECT * FROM profiles WHERE account_id = $1 ORDER BY seq', [accountId])).map(profileOf);
  }

  async startSession(s: NewSession, limit: number, liveSince: number): Promise<StartResult> {
    // edgebox_start_session (pg-migrations.ts) holds the account's transaction lock to its commit:
    // a concurrent start for the account, on any instance, waits, then counts this session. The
    // resume position is read in the same round trip.
    const r = await this.#row(
      `WITH resume AS (SELECT coalesce((SELECT position_ms FROM resume_positions WHERE profile_id = $3 AND title_id = $4), 0) AS position_ms)
       SELECT edgebox_start_session($1,$2,$3,$4,$5,$6,$7,$8,resume.position_ms,$9,$10,$11) AS live, resume.position_ms FROM resume`,
      [s.sessionId, s.accountId, s.profileId, s.titleId, s.device, s.clientIp, s.startedAt, s.lastHeartbeatAt, s.delivery, limit, liveSince],
    );
    return r!.live === null ? { ok: true, positionMs: Number(r!.position_ms) } : { ok: false, devices: r!.live };
  }
  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    const r = await this.#row('SELECT * FROM sessions WHERE session_id = $1', [sessionId]);
    return r && sessionOf(r);
  }
  async listLiveSessions(liveSince: number, limit: number): Promise<LiveSessionRow[]> {
    return (await this.#rows(
      'SELECT * FROM sessions WHERE ended_at IS NULL AND last_heartbeat_at >= $1 ORDER BY started_at DESC LIMIT $2', [liveSince, limit],
    )).map((r) => ({ ...sessionOf(r), bitrateKbps: r.bitrate_kbps ?? null, bufferMs: r.buffer_ms ?? null }));
  }
  async heartbeat(sessionId: string, at: number, positionMs: number, bitrateKbps: number, bufferMs: number): Promise<void> {
    // One statement: the session's update and its resume position together.
    await this.#run(
      `WITH s AS (
         UPDATE sessions SET last_heartbeat_at = $2, position_ms = $3, bitrate_kbps = $4, buffer_ms = $5
         WHERE session_id = $1 RETURNING profile_id, title_id)
       INSERT INTO resume_positions (profile_id, title_id, position_ms, updated_at) SELECT profile_id, title_id, $3, $2 FROM s
       ON CONFLICT (profile_id, title_id) DO UPDATE SET position_ms = excluded.position_ms, updated_at = excluded.updated_at`,
      [sessionId, at, positionMs, bitrateKbps, bufferMs],
    );
  }
  async endSession(sessionId: string, at: number): Promise<void> {
    await this.#run('UPDATE sessions SET ended_at = $1 WHERE session_id = $2 AND ended_at IS NULL', [at, sessionId]);
  }
  async resumePosition(profileId: string, titleId: string): Promise<number> {
    const r = await this.#row('SELECT position_ms FROM resume_positions WHERE profile_id = $1 AND title_id = $2', [profileId, titleId]);
    return r?.position_ms ?? 0;
  }

  async addViews(deltas: PopularityRow[], halfLifeMs: number): Promise<void> {
    if (deltas.length === 0) return;
    // Both sides decayed to the later time (as SqliteRepository), one statement for the batch.
    await this.#run(
      `INSERT INTO popularity (region, file_id, views, at) SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[])
       ON CONFLICT (region, file_id) DO UPDATE SET
         views = popularity.views * power(0.5, greatest(excluded.at - popularity.at, 0) / $5::float8)
               + excluded.views * power(0.5, greatest(popularity.at - excluded.at, 0) / $5::float8),
         at = greatest(popularity.at, excluded.at)`,
      [deltas.map((d) => d.region), deltas.map((d) => d.fileId), deltas.map((d) => d.views), deltas.map((d) => d.at), halfLifeMs],
    );
  }
  async listPopularity(): Promise<PopularityRow[]> {
    return (await this.#rows('SELECT region, file_id, views, at FROM popularity'))
      .map((r) => ({ region: r.region, fileId: r.file_id, views: r.views, at: r.at }));
  }
  async putPromotion(p: Promotion, now: number): Promise<void> {
    await this.#run(
      `INSERT INTO promotions VALUES ($1,$2,$3,$4,$5) ON CONFLICT (title_id) DO UPDATE SET regions=excluded.regions,
       expected_views=excluded.expected_views, release_at=excluded.release_at, updated_at=excluded.updated_at`,
      [p.titleId, JSON.stringify(p.regions), p.expectedViews, p.releaseAt, now],
    );
  }
  async deletePromotion(titleId: string): Promise<boolean> { return await this.#run('DELETE FROM promotions WHERE title_id = $1', [titleId]) === 1; }
  async listPromotions(): Promise<Promotion[]> {
    return (await this.#rows('SELECT * FROM promotions ORDER BY title_id')).map((r) => ({
      titleId: r.title_id, regions: JSON.parse(r.regions), expectedViews: r.expected_views, releaseAt: r.release_at,
    }));
  }

  async listPeerKeys(): Promise<PeerKeyRow[]> { return (await this.#rows('SELECT * FROM peer_keys ORDER BY created_at, kid')).map(peerKeyOf); }
  async addPeerKey(k: PeerKeyRow): Promise<PeerKeyRow[]> {
    await this.#run('INSERT INTO peer_keys VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING', [k.kid, k.x, k.d, k.createdAt]);
    return this.listPeerKeys();
  }

  async listSiteFill(): Promise<SiteFill[]> { return (await this.#rows('SELECT * FROM site_fill ORDER BY site_id')).map(siteFillOf); }
  async putSiteFill(f: SiteFill): Promise<void> {
    // on the change feed: another instance's manifests carry the new rates and deadline
    await this.#tx(async (db) => {
      const v = await this.#version(db);
      await this.#run(
        `INSERT INTO site_fill VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (site_id) DO UPDATE SET rate_limit_bps=excluded.rate_limit_bps,
         peer_serve_bps=excluded.peer_serve_bps, fill_now_until=excluded.fill_now_until, version=excluded.version, updated_by=excluded.updated_by`,
        [f.siteId, f.rateLimitBps, f.peerServeRateBps, f.fillNowUntil, v, this.instanceId], db,
      );
    });
  }
  async listApplianceFillNow(): Promise<ApplianceFillNow[]> {
    return (await this.#rows('SELECT * FROM appliance_fill ORDER BY appliance_id')).map(applianceFillOf);
  }
  async setApplianceFillNow(applianceId: string, until: number | null): Promise<void> {
    await this.#tx(async (db) => {
      const v = await this.#version(db);
      await this.#run(
        `INSERT INTO appliance_fill VALUES ($1,$2,$3,$4) ON CONFLICT (appliance_id) DO UPDATE SET fill_now_until=excluded.fill_now_until,
         version=excluded.version, updated_by=excluded.updated_by`, [applianceId, until, v, this.instanceId], db,
      );
    });
  }

  async setImageTarget(siteId: string, t: SiteImageTarget | null): Promise<void> {
    if (t === null) await this.#run('DELETE FROM site_images WHERE site_id = $1', [siteId]);
    else await this.#run(
      `INSERT INTO site_images VALUES ($1,$2,$3,$4) ON CONFLICT (site_id) DO UPDATE SET version=excluded.version,
       manifest_url=excluded.manifest_url, updated_at=excluded.updated_at`, [siteId, t.version, t.manifestUrl, t.updatedAt],
    );
  }
  async imageTarget(siteId: string): Promise<SiteImageTarget | null> {
    const r = await this.#row('SELECT * FROM site_images WHERE site_id = $1', [siteId]);
    return r ? { version: r.version, manifestUrl: r.manifest_url, updatedAt: r.updated_at } : null;
  }
  async saveApplianceImage(row: ApplianceImageRow): Promise<void> {
    await this.#run(
      `INSERT INTO appliance_images AS i VALUES ($1,$2,$3,$4) ON CONFLICT (appliance_id) DO UPDATE SET
       status=coalesce(excluded.status, i.status), history=coalesce(excluded.history, i.history), turnup=coalesce(excluded.turnup, i.turnup)`,
      [row.applianceId, row.status, row.history, row.turnup],
    );
  }
  async applianceImage(applianceId: string): Promise<ApplianceImageRow | undefined> {
    const r = await this.#row('SELECT * FROM appliance_images WHERE appliance_id = $1', [applianceId]);
    return r && { applianceId, status: r.status, history: r.history, turnup: r.turnup };
  }

  // ---- State hygiene: credential rotation and revocation, the URL-token key ring, pruning ----
  // (the interface's block of the same name; as SqliteRepository)

  async authenticateCredential(h: string): Promise<CredentialMatch | undefined> {
    const r = await this.#row(
      `SELECT appliance_id, credential_hash, next_credential_hash, rotate_requested_at FROM appliances
       WHERE credential_hash = $1 OR next_credential_hash = $1 OR revoked_credential_hash = $1`, [h],
    );
    if (!r) return undefined;
    const state = r.credential_hash === h ? 'current' : r.next_credential_hash === h ? 'next' : 'revoked';
    return { applianceId: r.appliance_id, state, rotateRequested: r.rotate_requested_at !== null };
  }
  async requestCredentialRotation(applianceId: string, at: number): Promise<boolean> {
    return await this.#run('UPDATE appliances SET rotate_requested_at = $1 WHERE appliance_id = $2 AND credential_revoked_at IS NULL', [at, applianceId]) === 1;
  }
  async offerNextCredential(applianceId: string, nextHash: string): Promise<void> {
    await this.#run('UPDATE appliances SET next_credential_hash = $1 WHERE appliance_id = $2 AND credential_revoked_at IS NULL', [nextHash, applianceId]);
  }
  async promoteNextCredential(applianceId: string): Promise<void> {
    await this.#run(
      `UPDATE appliances SET credential_hash = next_credential_hash, next_credential_hash = NULL, rotate_requested_at = NULL
       WHERE appliance_id = $1 AND next_credential_hash IS NOT NULL AND credential_revoked_at IS NULL`, [applianceId],
    );
  }
  async revokeCredential(applianceId: string, at: number): Promise<boolean> {
    // It drains the appliance too: a change the other instances' fleets follow.
    return this.#tx(async (db) => {
      const v = await this.#version(db);
      return await this.#run(
        `UPDATE appliances SET revoked_credential_hash = credential_hash, credential_hash = 'revoked:' || appliance_id,
         next_credential_hash = NULL, rotate_requested_at = NULL, credential_revoked_at = $1, operator_drain = true,
         version = $3, updated_by = $4
         WHERE appliance_id = $2 AND credential_revoked_at IS NULL`, [at, applianceId, v, this.instanceId], db,
      ) === 1;
    });
  }

  async listUrlTokenKeys(): Promise<UrlTokenKeyRow[]> {
    return (await this.#rows('SELECT * FROM url_token_keys ORDER BY active_from, kid'))
      .map((r) => ({ kid: r.kid, secret: r.secret, createdAt: r.created_at, activeFrom: r.active_from }));
  }
  async addUrlTokenKey(k: UrlTokenKeyRow): Promise<void> {
    await this.#run('INSERT INTO url_token_keys VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING', [k.kid, k.secret, k.createdAt, k.activeFrom]);
  }
  async deleteUrlTokenKey(kid: string): Promise<void> { await this.#run('DELETE FROM url_token_keys WHERE kid = $1', [kid]); }

  async pruneSessions(before: number): Promise<number> {
    return this.#run('DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < $1) OR (ended_at IS NULL AND last_heartbeat_at < $1)', [before]);
  }
  async pruneEnrollmentTokens(beforeSec: number): Promise<number> {
    // used_at is in unix seconds, as enroll() writes it
    return this.#run('DELETE FROM enrollment_tokens WHERE (used_at IS NOT NULL AND used_at < $1) OR expires_at < $1', [beforeSec]);
  }

  async changeVersion(): Promise<number> {
    // last_value is the latest version handed out; is_called is false before the first.
    const r = await this.#row('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM change_seq');
    return r!.v;
  }

  async changesSince(since: number): Promise<Changes> {
    // Rows this instance wrote last are skipped (it has them in memory) but still move `version` on.
    const me = this.instanceId;
    // One snapshot for the reads: `version` must not pass a row one of them did not see.
    // (one after another: a pg client runs one query at a time)
    const [sites, titles, appliances, routeLog, siteFill, applianceFill] = await this.#tx(async (db) => [
      await this.#rows('SELECT *, updated_by = $2 AS mine FROM sites WHERE version > $1', [since, me], db),
      await this.#rows(
        `SELECT title_id, version, updated_by = $2 AS mine, CASE WHEN updated_by <> $2 THEN name END AS name,
         CASE WHEN updated_by <> $2 THEN regions END AS regions, CASE WHEN updated_by <> $2 THEN manifest END AS manifest
         FROM titles WHERE version > $1`, [since, me], db,
      ),
      await this.#rows(
        `SELECT appliance_id, site_id, name, public_url, created_at, operator_drain, version, updated_by = $2 AS mine,
         CASE WHEN updated_by <> $2 THEN snapshot END AS snapshot,
         CASE WHEN updated_by <> $2 AND inventory_version > $1 THEN inventory END AS inventory,
         CASE WHEN updated_by <> $2 AND routes_version > $1 THEN routes END AS routes
         FROM appliances WHERE version > $1 ORDER BY version`, [since, me], db,
      ),
      await this.#rows(
        `SELECT appliance_id, full_set, version, updated_by = $2 AS mine, CASE WHEN updated_by <> $2 THEN body END AS body
         FROM route_log WHERE version > $1 ORDER BY id`, [since, me], db,
      ),
      await this.#rows('SELECT *, updated_by = $2 AS mine FROM site_fill WHERE version > $1', [since, me], db),
      await this.#rows('SELECT *, updated_by = $2 AS mine FROM appliance_fill WHERE version > $1', [since, me], db),
    ], 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    let version = since;
    for (const r of [...sites, ...titles, ...appliances, ...routeLog, ...siteFill, ...applianceFill]) version = Math.max(version, r.version);
    return {
      version,
      sites: sites.filter((r) => !r.mine).map(siteOf),
      titles: titles.filter((r) => !r.mine).map(titleOf),
      appliances: appliances.filter((r) => !r.mine).map(applianceOf),
      routeLog: routeLog.filter((r) => !r.mine).map(routeEntryOf),
      siteFill: siteFill.filter((r) => !r.mine).map(siteFillOf),
      applianceFillNow: applianceFill.filter((r) => !r.mine).map(applianceFillOf),
    };
  }

  async watchChanges(onChange: () => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const listen = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.#url, types });
      c.on('notification', (n) => { if (n.channel === CHANNEL && n.payload !== this.instanceId) onChange(); });
      c.on('error', () => {}); // 'end' follows
      c.once('end', () => {
        if (client !== c) return;
        client = undefined;
        again();
      });
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      client = c;
    };
    // Reconnect until it works, then read what was written while nobody listened.
    const again = () => {
      if (stopped) return;
      timer = setTimeout(() => listen().then(() => (stopped ? void client?.end() : onChange()), again), RECONNECT_MS);
    };
    await listen();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    };
  }

  // ---- TLS certificates for the appliances' serving hostnames (the interface's block of the same name) ----
  async putTlsCertificate(c: TlsCertificateRow): Promise<void> {
    await this.#run(
      `INSERT INTO tls_certificates VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (fingerprint) DO UPDATE SET
         cert_pem = excluded.cert_pem, key_sealed = excluded.key_sealed, hosts = excluded.hosts,
         not_before = excluded.not_before, not_after = excluded.not_after, uploaded_at = excluded.uploaded_at`,
      [c.fingerprint, c.certPem, c.keySealed, JSON.stringify(c.hosts), c.notBefore, c.notAfter, c.uploadedAt],
    );
  }
  async listTlsCertificates(): Promise<TlsCertificateRow[]> {
    return (await this.#rows('SELECT * FROM tls_certificates ORDER BY uploaded_at, fingerprint')).map((r) => ({
      fingerprint: r.fingerprint, certPem: r.cert_pem, keySealed: r.key_sealed, hosts: JSON.parse(r.hosts) as string[],
      notBefore: Number(r.not_before), notAfter: Number(r.not_after), uploadedAt: Number(r.uploaded_at),
    }));
  }
  async deleteTlsCertificate(fingerprint: string): Promise<boolean> {
    return (await this.#run('DELETE FROM tls_certificates WHERE fingerprint = $1', [fingerprint])) > 0;
  }

  async close(): Promise<void> { await this.#pool.end(); }
}
