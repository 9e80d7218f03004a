// The inventory: one better-sqlite3 database per box (`<stateDir>/inventory.db`, WAL). A file is
// published only once its row is written, so the row — not the directory listing — says what the
// box holds. Schema changes are numbered migrations keyed on `PRAGMA user_version`.

import Database from 'better-sqlite3';
import type { FileKind } from '../../../protocol/index.ts';
import type { FailedDrive } from './drive-health.ts';
import type { DiskTier } from './types.ts';

export type FileState = 'ok' | 'quarantined';

export interface FileRow {
  fileId: string;
  bytes: number;
  sha256: string;
  kind: FileKind;
  tier: DiskTier;
  root: string;
  publishedAt: number;
  /** control's popularity rank (0 = most popular); null until control sends one */
  rank: number | null;
  /** decayed demand (whole-file reads) as of demandAt; see score.ts */
  demand: number;
  demandAt: number;
  state: FileState;
  reason: string | null;
}

/** Something found on disk that the inventory never published (kept for the operator). */
export interface QuarantineRecord {
  fileId: string;
  root: string;
  path: string | null;
  reason: string;
  at: number;
}

const MIGRATIONS: string[] = [
  `CREATE TABLE files (
     file_id TEXT PRIMARY KEY,
     bytes INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     kind TEXT NOT NULL,
     tier TEXT NOT NULL,
     root TEXT NOT NULL,
     published_at INTEGER NOT NULL,
     rank REAL,
     demand REAL NOT NULL DEFAULT 0,
     demand_at INTEGER NOT NULL DEFAULT 0,
     state TEXT NOT NULL DEFAULT 'ok',
     reason TEXT
   );
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY,
     file_id TEXT NOT NULL,
     root TEXT NOT NULL,
     path TEXT,
     reason TEXT NOT NULL,
     at INTEGER NOT NULL
   );`,
  // drives taken out of service after repeated I/O errors (drive-health.ts): kept across restarts
  `CREATE TABLE failed_drives (
     root TEXT PRIMARY KEY,
     tier TEXT NOT NULL,
     at INTEGER NOT NULL,
     reason TEXT NOT NULL
   );`,
];

const COLUMNS = `file_id AS fileId, bytes, sha256, kind, tier, root, published_at AS publishedAt,
  rank, demand, demand_at AS demandAt, state, reason`;

export class Inventory {
  readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // WAL + synchronous=FULL: a row the store reported as published survives power loss.
    this.db.pragma('synchronous = FULL');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`inventory schema version ${version} is newer than this code (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  all(): FileRow[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM files ORDER BY file_id`).all() as FileRow[];
  }

  get(fileId: string): FileRow | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM files WHERE file_id = ?`).get(fileId) as FileRow | undefined;
  }

  upsert(r: FileRow): void {
    this.db
      .prepare(
        `INSERT INTO files (file_id, bytes, sha256, kind, tier, root, published_at, rank, demand, demand_at, state, reason)
         VALUES (@fileId, @bytes, @sha256, @kind, @tier, @root, @publishedAt, @rank, @demand, @demandAt, @state, @reason)
         ON CONFLICT(file_id) DO UPDATE SET bytes=excluded.bytes, sha256=excluded.sha256, kind=excluded.kind,
           tier=excluded.tier, root=excluded.root, published_at=excluded.published_at, rank=excluded.rank,
           demand=excluded.demand, demand_at=excluded.demand_at, state=excluded.state, reason=excluded.reason`,
      )
      .run(r);
  }

  setPlace(fileId: string, tier: DiskTier, root: string): void {
    this.db.prepare('UPDATE files SET tier = ?, root = ? WHERE file_id = ?').run(tier, root, fileId);
  }

  setRanks(ranks: Array<{ fileId: string; rank: number | null }>): void {
    const stmt = this.db.prepare('UPDATE files SET rank = ? WHERE file_id = ?');
    this.db.transaction(() => {
      for (const r of ranks) stmt.run(r.rank, r.fileId);
    })();
  }

  setDemand(rows: Array<{ fileId: string; demand: number; demandAt: number }>): void {
    const stmt = this.db.prepare('UPDATE files SET demand = ?, demand_at = ? WHERE file_id = ?');
    this.db.transaction(() => {
      for (const r of rows) stmt.run(r.demand, r.demandAt, r.fileId);
    })();
  }

  quarantine(fileId: string, reason: string): void {
    this.db.prepare(`UPDATE files SET state = 'quarantined', reason = ? WHERE file_id = ?`).run(reason, fileId);
  }

  delete(fileId: string): void {
    this.db.prepare('DELETE FROM files WHERE file_id = ?').run(fileId);
  }

  addQuarantineRecord(q: QuarantineRecord): void {
    this.db
      .prepare('INSERT INTO quarantine (file_id, root, path, reason, at) VALUES (@fileId, @root, @path, @reason, @at)')
      .run(q);
  }

  /** Record a failed drive and quarantine every row on it, in one transaction. */
  markDriveFailed(d: FailedDrive): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO failed_drives (root, tier, at, reason) VALUES (@root, @tier, @at, @reason)').run(d);
      this.db.prepare(`UPDATE files SET state = 'quarantined', reason = ? WHERE root = ? AND state = 'ok'`).run(`drive failed: ${d.reason}`, d.root);
    })();
  }

  failedDrives(): FailedDrive[] {
    return this.db.prepare('SELECT root, tier, at, reason FROM failed_drives ORDER BY root').all() as FailedDrive[];
  }

  /** quarantined rows + quarantined orphans (health and metrics poll this: one query) */
  quarantineCount(): number {
    const r = this.db
      .prepare(`SELECT (SELECT COUNT(*) FROM files WHERE state != 'ok') + (SELECT COUNT(*) FROM quarantine) AS n`)
      .get() as { n: number };
    return r.n;
  }

  quarantineRecords(): QuarantineRecord[] {
    return this.db
      .prepare('SELECT file_id AS fileId, root, path, reason, at FROM quarantine ORDER BY id')
      .all() as QuarantineRecord[];
  }

  close(): void {
    this.db.close();
  }
}
