// WAL checkpoints off control's event loop. SQLite's automatic checkpoint runs inside the commit
// that crosses 1,000 WAL pages, on the writing thread: it copies the pages into the database file
// and fsyncs both files, and the event loop waits for the disk (under playback load that wait
// was half the wall time of a session start's store work; the checkpoint's CPU was a tenth of a
// start). Here the writer's connection stops checkpointing and a worker thread does it on a timer
// instead; a page written many times between two checkpoints is copied once. The WAL is kept
// to about 64 MiB (the worker's TRUNCATE checkpoint). If the worker fails, the writer checkpoints
// for itself again, so the WAL never grows without bound.

import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

const WORKER_URL = new URL('./sqlite-checkpoint-worker.ts', import.meta.url);
/** SQLite's default `wal_autocheckpoint`, restored if the worker dies */
const AUTOCHECKPOINT_PAGES = 1000;

export class SqliteCheckpointer {
  #worker: Worker;
  #exited: Promise<void>;
  /** settles when the worker has its connection and checkpoints from then on (or has died) */
  readonly ready: Promise<void>;

  /** `restartFrames`: the WAL's bound in pages (4 KiB each) before it is started over */
  constructor(db: Database.Database, path: string, everyMs = 200, restartFrames = 16_384) {
    db.pragma('wal_autocheckpoint = 0');
    this.#worker = new Worker(WORKER_URL, { workerData: { path, everyMs, restartFrames } });
    this.#worker.unref(); // a repository left open does not keep the process alive
    this.ready = new Promise((resolve) => { this.#worker.once('message', () => resolve()); this.#worker.once('exit', () => resolve()); });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('error', () => {}); // the exit below handles it
      this.#worker.once('exit', () => {
        if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
        resolve();
      });
    });
  }

  /** Stops the worker (its connection closed) before the writer closes its own; the writer checkpoints for itself from then on. */
  async stop(): Promise<void> {
    this.#worker.ref(); // wait for its exit even with nothing else to do
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
