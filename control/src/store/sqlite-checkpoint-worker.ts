// The worker thread behind sqlite-checkpointer.ts: its own connection to control's database file.
// Every `everyMs` a PASSIVE checkpoint copies the WAL back into the file without blocking the
// writer (the copying and the fsyncs happen here, not on control's event loop). Under steady
// writes the writer never finds the WAL fully copied at the start of a transaction, so the WAL
// would only grow: past `restartFrames` a TRUNCATE checkpoint follows, which holds the writer off
// only while it copies what the PASSIVE one left (the last few ms of writes), then empties the
// WAL file so the next transaction starts it over.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, everyMs, restartFrames } = workerData as { path: string; everyMs: number; restartFrames: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
const checkpoint = (mode: string) => (db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[])[0];
const timer = setInterval(() => {
  if (checkpoint('PASSIVE').log > restartFrames) checkpoint('TRUNCATE');
}, everyMs);
parentPort!.postMessage('ready');
parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
