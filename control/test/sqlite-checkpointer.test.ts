// WAL checkpoints in a worker thread (src/store/sqlite-checkpointer.ts): under steady writes the
// writer itself never checkpoints, yet the WAL stays bounded and its pages reach the database
// file; if the worker cannot run, the writer checkpoints for itself again.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { SqliteCheckpointer } from '../src/store/sqlite-checkpointer.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function openDb() {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-checkpointer-'));
  dirs.push(dir);
  const path = join(dir, 'c.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  return { db, path };
}

it('the writer does not checkpoint; the worker copies the WAL into the file and empties it', async () => {
  const { db, path } = openDb();
  const restartFrames = 256;
  const ck = new SqliteCheckpointer(db, path, 10, restartFrames);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await ck.ready;
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const body = 'x'.repeat(2_000);
  let rows = 0;
  // about 60 MB of rows, a write transaction every event-loop turn
  while (rows < 30_000) {
    db.transaction(() => { for (let i = 0; i < 20; i++) insert.run(body); })();
    rows += 20;
    await turn();
  }
  // the writer alone would leave all 60 MB in the WAL (it never checkpoints); past restartFrames
  // the worker's TRUNCATE empties it, within a tick or two of the writes stopping
  const until = Date.now() + 20_000;
  const bound = 2 * restartFrames * 4096; // restartFrames frames at most, each a page and its header
  while (statSync(`${path}-wal`).size > bound && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(bound);
  await ck.stop();
  expect(statSync(path).size).toBeGreaterThan(30 * 1024 * 1024); // the worker copied pages into the file
  expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(rows);
  db.close();
}, 60_000);

it('a worker that cannot open the database hands checkpoints back to the writer', async () => {
  const { db } = openDb();
  const ck = new SqliteCheckpointer(db, '/nonexistent-dir/c.db', 10);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await ck.stop();
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  db.close();
});
