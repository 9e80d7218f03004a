// Schema migrations, applied in order inside one transaction each; `user_version` records how far
// a database has come, so a newer control opens an older file and brings it forward.

import type Database from 'better-sqlite3';

const MIGRATIONS: string[] = [
  `CREATE TABLE sites (
     site_id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('embedded','ix')),
     region TEXT NOT NULL, time_zone TEXT NOT NULL, fill_start TEXT NOT NULL, fill_end TEXT NOT NULL);
   CREATE TABLE enrollment_tokens (
     token_hash TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(site_id),
     expires_at INTEGER NOT NULL, used_at INTEGER, appliance_id TEXT);
   CREATE TABLE appliances (
     appliance_id TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(site_id),
     name TEXT NOT NULL, public_url TEXT NOT NULL, credential_hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL, operator_drain INTEGER NOT NULL DEFAULT 0,
     snapshot TEXT);
   CREATE TABLE titles (
     title_id TEXT PRIMARY KEY, name TEXT NOT NULL, regions TEXT NOT NULL,
     manifest TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE title_keys (
     kid TEXT PRIMARY KEY, title_id TEXT NOT NULL REFERENCES titles(title_id) ON DELETE CASCADE,
     label TEXT NOT NULL, key_sealed BLOB NOT NULL);
   CREATE TABLE accounts (
     account_id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL, region TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'active', token_hash TEXT NOT NULL UNIQUE);
   CREATE TABLE profiles (
     profile_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(account_id), name TEXT NOT NULL);
   CREATE TABLE sessions (
     session_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, profile_id TEXT NOT NULL,
     title_id TEXT NOT NULL, device TEXT NOT NULL, client_ip TEXT NOT NULL,
     started_at INTEGER NOT NULL, last_heartbeat_at INTEGER NOT NULL, ended_at INTEGER,
     position_ms INTEGER NOT NULL DEFAULT 0, bitrate_kbps INTEGER, buffer_ms INTEGER,
     delivery TEXT NOT NULL);
   CREATE INDEX sessions_live ON sessions(account_id, ended_at, last_heartbeat_at);
   CREATE TABLE resume_positions (
     profile_id TEXT NOT NULL, title_id TEXT NOT NULL, position_ms INTEGER NOT NULL,
     updated_at INTEGER NOT NULL, PRIMARY KEY (profile_id, title_id));`,
  // Inventory and routes are large and change rarely: stored apart from the per-report state so
  // a report that changes neither writes only a few hundred bytes.
  `ALTER TABLE appliances ADD COLUMN inventory TEXT;
   ALTER TABLE appliances ADD COLUMN routes TEXT;`,
  // Fill (src/fill/): popularity per region and file (decayed views as of `at`), operators'
  // promotions for titles without history, control's peer-token signing keys, and the per-site /
  // per-appliance fill overrides (NULL = the setting's default).
  `CREATE TABLE popularity (
     region TEXT NOT NULL, file_id TEXT NOT NULL, views REAL NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (region, file_id));
   CREATE TABLE promotions (
     title_id TEXT PRIMARY KEY, regions TEXT NOT NULL, expected_views REAL NOT NULL,
     release_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE peer_keys (kid TEXT PRIMARY KEY, x TEXT NOT NULL, d TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE site_fill (
     site_id TEXT PRIMARY KEY REFERENCES sites(site_id), rate_limit_bps REAL, peer_serve_bps REAL,
     fill_now_until INTEGER);
   CREATE TABLE appliance_fill (
     appliance_id TEXT PRIMARY KEY REFERENCES appliances(appliance_id), fill_now_until INTEGER);`,
  // The appliance image (routes/images.ts): each site's target version (staged rollouts) and what
  // each box last reported about its updates and its turn-up checks.
  `CREATE TABLE site_images (
     site_id TEXT PRIMARY KEY REFERENCES sites(site_id), version TEXT NOT NULL,
     manifest_url TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE appliance_images (
     appliance_id TEXT PRIMARY KEY REFERENCES appliances(appliance_id),
     status TEXT, history TEXT, turnup TEXT);`,
  // State hygiene (issue 13 item 4): credential rotation (the next credential offered to the
  // appliance; rotate_requested_at until it is seen in use) and revocation (the revoked hash is
  // kept so its reports get "revoked" rather than "unknown"; credential_hash then holds a
  // tombstone that is no SHA-256), and the URL-token key ring.
  `ALTER TABLE appliances ADD COLUMN next_credential_hash TEXT;
   ALTER TABLE appliances ADD COLUMN revoked_credential_hash TEXT;
   ALTER TABLE appliances ADD COLUMN rotate_requested_at INTEGER;
   ALTER TABLE appliances ADD COLUMN credential_revoked_at INTEGER;
   CREATE UNIQUE INDEX appliances_next_credential ON appliances(next_credential_hash);
   CREATE UNIQUE INDEX appliances_revoked_credential ON appliances(revoked_credential_hash);
   CREATE TABLE url_token_keys (
     kid TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at INTEGER NOT NULL, active_from INTEGER NOT NULL);`,
  // TLS certificates an operator uploads for the appliances' serving hostnames (tls/): the key
  // sealed under the KEK like title keys, the hosts it names as JSON.
  `CREATE TABLE tls_certificates (
     fingerprint TEXT PRIMARY KEY, cert_pem TEXT NOT NULL, key_sealed BLOB NOT NULL, hosts TEXT NOT NULL,
     not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, uploaded_at INTEGER NOT NULL);`,
  // Each appliance's route log (steering/route-log.ts): at most one full set (deflated) and the
  // deltas since, in id order. Replaces the routes column, which is read once more after an
  // upgrade and then left alone.
  `CREATE TABLE route_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT, appliance_id TEXT NOT NULL REFERENCES appliances(appliance_id),
     full INTEGER NOT NULL, body BLOB NOT NULL);
   CREATE INDEX route_log_appliance ON route_log(appliance_id, id);`,
  // The route log without its foreign key: an entry whose appliance has no row (the steering
  // bench's fleet is not in the store) must not fail the whole batch; replay skips it.
  `CREATE TABLE route_log_new (
     id INTEGER PRIMARY KEY AUTOINCREMENT, appliance_id TEXT NOT NULL, full INTEGER NOT NULL, body BLOB NOT NULL);
   INSERT INTO route_log_new SELECT id, appliance_id, full, body FROM route_log;
   DROP TABLE route_log;
   ALTER TABLE route_log_new RENAME TO route_log;
   CREATE INDEX route_log_appliance ON route_log(appliance_id, id);`,
  // The stream-limit count comes from memory (live-sessions.ts), loaded from the sessions not
  // ended. The per-account index put each start's and each heartbeat's entry on a random page (a
  // page more in the WAL and at the checkpoint: ~75 against ~50 µs per insert in batches of 13);
  // the sessions not ended by heartbeat time are written at the index's right edge.
  `DROP INDEX sessions_live;
   CREATE INDEX sessions_open ON sessions(last_heartbeat_at) WHERE ended_at IS NULL;`,
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
