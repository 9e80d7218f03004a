// PostgreSQL schema migrations: the same tables as the SQLite ones (migrations.ts), in
// PostgreSQL's types (times in ms are BIGINT, blobs BYTEA), applied in order, each in its own
// transaction, with `schema_migrations` recording how far a database has come. Several control
// instances may start together: the whole run holds a session advisory lock, so one migrates and
// the others wait and then find nothing to do.
//
// Rows other instances must see in memory (appliances, sites, titles) carry `version`, taken
// from `change_seq` by every write (pg-repository.ts), and `updated_by`, the writing instance.

import type pg from 'pg';

/** pg_advisory_lock key of the migration run ("edgebox" in ASCII, as a bigint) */
const MIGRATION_LOCK = 0x6564676562_6f78n;

export const PG_MIGRATIONS: string[] = [
  `CREATE TABLE sites (
     site_id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('embedded','ix')),
     region TEXT NOT NULL, time_zone TEXT NOT NULL, fill_start TEXT NOT NULL, fill_end TEXT NOT NULL);
   CREATE TABLE enrollment_tokens (
     token_hash TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(site_id),
     expires_at BIGINT NOT NULL, used_at BIGINT, appliance_id TEXT);
   CREATE TABLE appliances (
     appliance_id TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(site_id),
     name TEXT NOT NULL, public_url TEXT NOT NULL, credential_hash TEXT NOT NULL UNIQUE,
     created_at BIGINT NOT NULL, operator_drain BOOLEAN NOT NULL DEFAULT false,
     snapshot TEXT, inventory TEXT, routes TEXT);
   CREATE TABLE titles (
     title_id TEXT PRIMARY KEY, name TEXT NOT NULL, regions TEXT NOT NULL,
     manifest TEXT NOT NULL, updated_at BIGINT NOT NULL);
   CREATE TABLE title_keys (
     kid TEXT PRIMARY KEY, title_id TEXT NOT NULL REFERENCES titles(title_id) ON DELETE CASCADE,
     label TEXT NOT NULL, key_sealed BYTEA NOT NULL);
   CREATE TABLE accounts (
     account_id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL, region TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'active', token_hash TEXT NOT NULL UNIQUE);
   CREATE TABLE profiles (
     profile_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(account_id), name TEXT NOT NULL,
     seq BIGINT GENERATED ALWAYS AS IDENTITY);
   CREATE INDEX profiles_account ON profiles(account_id, seq);
   CREATE TABLE sessions (
     session_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, profile_id TEXT NOT NULL,
     title_id TEXT NOT NULL, device TEXT NOT NULL, client_ip TEXT NOT NULL,
     started_at BIGINT NOT NULL, last_heartbeat_at BIGINT NOT NULL, ended_at BIGINT,
     position_ms BIGINT NOT NULL DEFAULT 0, bitrate_kbps BIGINT, buffer_ms BIGINT,
     delivery TEXT NOT NULL);
   CREATE INDEX sessions_live ON sessions(account_id, ended_at, last_heartbeat_at);
   CREATE TABLE resume_positions (
     profile_id TEXT NOT NULL, title_id TEXT NOT NULL, position_ms BIGINT NOT NULL,
     updated_at BIGINT NOT NULL, PRIMARY KEY (profile_id, title_id));`,
  // Fill (src/fill/): as SQLite's third migration.
  `CREATE TABLE popularity (
     region TEXT NOT NULL, file_id TEXT NOT NULL, views DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL,
     PRIMARY KEY (region, file_id));
   CREATE TABLE promotions (
     title_id TEXT PRIMARY KEY, regions TEXT NOT NULL, expected_views DOUBLE PRECISION NOT NULL,
     release_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
   CREATE TABLE peer_keys (kid TEXT PRIMARY KEY, x TEXT NOT NULL, d TEXT NOT NULL, created_at BIGINT NOT NULL);
   CREATE TABLE site_fill (
     site_id TEXT PRIMARY KEY REFERENCES sites(site_id), rate_limit_bps DOUBLE PRECISION,
     peer_serve_bps DOUBLE PRECISION, fill_now_until BIGINT);
   CREATE TABLE appliance_fill (
     appliance_id TEXT PRIMARY KEY REFERENCES appliances(appliance_id), fill_now_until BIGINT);`,
  // The appliance image: as SQLite's fourth migration.
  `CREATE TABLE site_images (
     site_id TEXT PRIMARY KEY REFERENCES sites(site_id), version TEXT NOT NULL,
     manifest_url TEXT NOT NULL, updated_at BIGINT NOT NULL);
   CREATE TABLE appliance_images (
     appliance_id TEXT PRIMARY KEY REFERENCES appliances(appliance_id),
     status TEXT, history TEXT, turnup TEXT);`,
  // State hygiene (issue 13 item 4): as SQLite's fifth migration (credential rotation and
  // revocation, the URL-token key ring).
  `ALTER TABLE appliances ADD COLUMN next_credential_hash TEXT, ADD COLUMN revoked_credential_hash TEXT,
     ADD COLUMN rotate_requested_at BIGINT, ADD COLUMN credential_revoked_at BIGINT;
   CREATE UNIQUE INDEX appliances_next_credential ON appliances(next_credential_hash);
   CREATE UNIQUE INDEX appliances_revoked_credential ON appliances(revoked_credential_hash);
   CREATE TABLE url_token_keys (
     kid TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at BIGINT NOT NULL, active_from BIGINT NOT NULL);`,
  // Several instances: the change feed's versions. inventory_version and routes_version say when
  // those large columns last changed, so a reader fetches them only then.
  `CREATE SEQUENCE change_seq;
   ALTER TABLE appliances ADD COLUMN version BIGINT NOT NULL DEFAULT 0, ADD COLUMN updated_by TEXT NOT NULL DEFAULT '',
     ADD COLUMN inventory_version BIGINT NOT NULL DEFAULT 0, ADD COLUMN routes_version BIGINT NOT NULL DEFAULT 0;
   ALTER TABLE sites ADD COLUMN version BIGINT NOT NULL DEFAULT 0, ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
   ALTER TABLE titles ADD COLUMN version BIGINT NOT NULL DEFAULT 0, ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
   CREATE INDEX appliances_version ON appliances(version);
   CREATE INDEX sites_version ON sites(version);
   CREATE INDEX titles_version ON titles(version);`,
  // TLS certificates for the appliances' serving hostnames (migrations.ts has the same table)
  `CREATE TABLE tls_certificates (
     fingerprint TEXT PRIMARY KEY, cert_pem TEXT NOT NULL, key_sealed BYTEA NOT NULL, hosts TEXT NOT NULL,
     not_before BIGINT NOT NULL, not_after BIGINT NOT NULL, uploaded_at BIGINT NOT NULL);`,
  // The stream-limit check-and-insert as one round trip (pg-repository.ts startSession): take the
  // account's transaction lock (class 0x6565), then count with a fresh snapshot (each statement of
  // a VOLATILE function gets one under READ COMMITTED, so a start that held the lock before is
  // counted), then insert. Returns the live devices when the limit is reached, NULL when started.
  `CREATE FUNCTION edgebox_start_session(p_session TEXT, p_account TEXT, p_profile TEXT, p_title TEXT, p_device TEXT,
     p_client_ip TEXT, p_started_at BIGINT, p_heartbeat_at BIGINT, p_position_ms BIGINT, p_delivery TEXT,
     p_limit INTEGER, p_live_since BIGINT) RETURNS TEXT[] LANGUAGE plpgsql VOLATILE AS $$
   DECLARE live TEXT[];
   BEGIN
     PERFORM pg_advisory_xact_lock(25957, hashtext(p_account));
     SELECT coalesce(array_agg(device ORDER BY started_at), '{}') INTO live FROM sessions
       WHERE account_id = p_account AND ended_at IS NULL AND last_heartbeat_at >= p_live_since;
     IF cardinality(live) >= p_limit THEN RETURN live; END IF;
     INSERT INTO sessions (session_id, account_id, profile_id, title_id, device, client_ip, started_at, last_heartbeat_at, position_ms, delivery)
       VALUES (p_session, p_account, p_profile, p_title, p_device, p_client_ip, p_started_at, p_heartbeat_at, p_position_ms, p_delivery);
     RETURN NULL;
   END $$;`,
  // Each appliance's route log (steering/route-log.ts; migrations.ts has the same table), read by
  // the other instances past their last version; and the fill overrides and "fill now"
  // deadlines join the change feed.
  `CREATE TABLE route_log (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, appliance_id TEXT NOT NULL REFERENCES appliances(appliance_id),
     full_set BOOLEAN NOT NULL, body BYTEA NOT NULL, version BIGINT NOT NULL, updated_by TEXT NOT NULL);
   CREATE INDEX route_log_appliance ON route_log(appliance_id, id);
   CREATE INDEX route_log_version ON route_log(version);
   ALTER TABLE site_fill ADD COLUMN version BIGINT NOT NULL DEFAULT 0, ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
   ALTER TABLE appliance_fill ADD COLUMN version BIGINT NOT NULL DEFAULT 0, ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
   CREATE INDEX site_fill_version ON site_fill(version);
   CREATE INDEX appliance_fill_version ON appliance_fill(version);`,
  // The route log without its foreign key, as SQLite's (an entry of an appliance with no row must
  // not fail the whole batch).
  `ALTER TABLE route_log DROP CONSTRAINT route_log_appliance_id_fkey;`,
];

/** Bring the database to the latest schema; returns the number of migrations it has. */
export async function migratePg(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
      for (let v = r.rows[0].v ?? 0; v < PG_MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(PG_MIGRATIONS[v]);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${v + 1} failed: ${(err as Error).message}`, { cause: err });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    client.release();
  }
  return PG_MIGRATIONS.length;
}
