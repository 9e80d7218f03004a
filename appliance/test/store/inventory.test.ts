// The inventory file: WAL, versioned schema, quarantine via verify(), and a clear refusal of a
// database written by newer code.

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Inventory } from '../../src/store/inventory.ts';
import { WorkerStoreView } from '../../src/store/store-view.ts';
import { type Dirs, KiB, makeDirs, ManualClock, open, putFile, removeDirs } from './helpers.ts';

let d: Dirs;
beforeEach(async () => {
  d = await makeDirs();
});
afterEach(async () => {
  await removeDirs(d);
});

it('is WAL with a schema version, and refuses a newer schema with a clear error', async () => {
  const store = await open(d, new ManualClock());
  await putFile(store, 't1.a', KiB);
  await store.close();
  const db = new Database(join(d.state, 'inventory.db'));
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(db.pragma('user_version', { simple: true })).toBe(2);
  db.pragma('user_version = 99');
  db.close();
  expect(() => new Inventory(join(d.state, 'inventory.db'))).toThrow(/schema version 99 is newer/);
});

it('migrates a version-1 inventory: its files kept, the failed-drive table added', async () => {
  const store = await open(d, new ManualClock());
  await putFile(store, 't1.a', KiB);
  await store.close();
  const db = new Database(join(d.state, 'inventory.db'));
  db.exec('DROP TABLE failed_drives');
  db.pragma('user_version = 1');
  db.close();
  const inv = new Inventory(join(d.state, 'inventory.db'));
  try {
    expect(inv.all().map((r) => r.fileId)).toEqual(['t1.a']);
    expect(inv.failedDrives()).toEqual([]);
    expect(inv.db.pragma('user_version', { simple: true })).toBe(2);
  } finally {
    inv.close();
  }
});

it('a quarantine whose move aside fails is logged, and the file stays out of service', async () => {
  const errors: { obj: object; msg?: string }[] = [];
  const logger = { info() {}, warn() {}, error: (obj: object, msg?: string) => { errors.push({ obj, msg }); } };
  const store = await open(d, new ManualClock(), { logger });
  try {
    const f = await putFile(store, 't1.rot', 16 * KiB);
    await writeFile(join(d.ssd, '.quarantine'), 'a file where the quarantine folder should be');
    await writeFile(f.path, Buffer.alloc(16 * KiB, 1));
    expect(await store.verify('t1.rot')).toBe(false);
    expect(store.get('t1.rot')).toBeUndefined();
    expect(existsSync(f.path)).toBe(true); // nothing lost: the bytes are where they were
    expect(errors).toMatchObject([{ obj: { fileId: 't1.rot', path: f.path }, msg: expect.stringMatching(/could not be moved/) }]);
  } finally {
    await store.close();
  }
});

it('verify() quarantines a file whose bytes rotted on disk, and workers stop seeing it', async () => {
  const store = await open(d, new ManualClock());
  try {
    const f = await putFile(store, 't1.rot', 16 * KiB);
    await putFile(store, 't1.fine', 16 * KiB);
    const view = new WorkerStoreView();
    store.attachWorker({ postMessage: (m) => view.handle(m), on: () => {}, off: () => {} });
    expect(await store.verify('t1.fine')).toBe(true);
    await writeFile(f.path, Buffer.alloc(16 * KiB, 1)); // same size, other bytes
    expect(await store.verify('t1.rot')).toBe(false);
    expect(store.get('t1.rot')).toBeUndefined();
    expect(view.get('t1.rot')).toBeUndefined();
    expect(view.get('t1.fine')).toBeDefined();
    expect(existsSync(f.path)).toBe(false);
    expect((await readdir(join(d.ssd, '.quarantine'))).some((n) => n.startsWith('t1.rot.'))).toBe(true);
    expect(store.quarantined().files).toMatchObject([{ fileId: 't1.rot', reason: 'sha256 mismatch on verify' }]);
    expect(store.usage().counters.quarantined).toBe(1);
  } finally {
    await store.close();
  }
});
