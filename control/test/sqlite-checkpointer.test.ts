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

it('the writer does not checkpoint; the worker keeps the WAL bounded while writes never pause', async () => {
  const { db, path } = openDb();
  const restartFrames = 256;
  const ck = new SqliteCheckpointer(db, path, 10, restartFrames);
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await ck.ready;
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const body = 'x'.repeat(2_000);
  const walSizes: number[] = [];
  let rows = 0;
  // about 60 MB of rows, a write transaction every event-loop turn: the WAL would hold all of it
  while (rows < 30_000) {
    db.transaction(() => { for (let i = 0; i < 20; i++) insert.run(body); })();
    rows += 20;
    walSizes.push(statSync(`${path}-wal`).size);
    await turn();
  }
  await ck.stop();
  // past restartFrames a TRUNCATE empties the WAL while the writes go on (the writer alone would
  // grow it to the whole 60 MB: it never checkpoints); how far it grows between two worker ticks
  // depends on the machine's load, so the bound is loose
  expect(walSizes.some((size, i) => i > 0 && size < walSizes[i - 1])).toBe(true);
  expect(walSizes.at(-1)).toBeLessThan(30 * 1024 * 1024);
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
