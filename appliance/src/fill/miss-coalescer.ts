// The main thread's side of misses (http/miss-stream.ts is the workers'): a worker asks about a
// file its store view lacks; if the fill engine wants the file, `fetchNow` starts or joins THE
// download of it (the engine keeps one per fileId, so misses on every worker and the scheduled
// fill share one upstream fetch — the shape of undici's interceptor/deduplicate), and every
// worker streaming from it is sent the partial's path and progress until it ends. This file only
// relays: it never starts a download of its own.
//
// Progress is relayed at most once per turn of the event loop per download (a download reports
// every chunk it writes), always with the values current at sending time, and in order with the
// reset and end messages on the same channel — so a worker never sees a stale `written` after a
// reset. The end of a successful download is sent after its `done` resolved, which is after the
// store published the file and posted its entry: a worker has the hit before it hears the end.

import type { Logger } from 'pino';
import type { FillFile } from '../../../protocol/index.ts';
import type { MainToWorker, MissAnswer } from '../http/worker-messages.ts';
import { toEntry } from '../store/file-table.ts';
import type { FileRow } from '../store/inventory.ts';
import type { FileEntry } from '../store/types.ts';
import type { Download, FillHandle } from './fill-handle.ts';

export interface MissCoalescerOptions {
  /** the fill engine, if this box has one (daemon.fill) */
  fill: () => FillHandle | null;
  /** the store holds the file now */
  held: (fileId: string) => boolean;
  /** post to one serving worker */
  post: (worker: number, m: MainToWorker) => void;
  log?: Logger;
  now?: () => number;
}

interface Following {
  download: Download;
  entry: FileEntry;
  workers: Set<number>;
  flushQueued: boolean;
}

const NOT_WANTED: MissAnswer = { kind: 'not-wanted' };
const HELD: MissAnswer = { kind: 'held' };

export class MissCoalescer {
  #o: MissCoalescerOptions;
  #following = new Map<string, Following>();

  constructor(o: MissCoalescerOptions) {
    this.#o = o;
  }

  /** downloads workers are streaming from now */
  get active(): number {
    return this.#following.size;
  }

  ask(worker: number, id: number, fileId: string): void {
    const answer = (a: MissAnswer): void => this.#o.post(worker, { type: 'miss:answer', id, answer: a });
    if (this.#o.held(fileId)) return answer(HELD);
    let f = this.#following.get(fileId);
    if (f === undefined) {
      const fill = this.#o.fill();
      const wanted = fill?.wanted(fileId);
      const download = wanted === undefined ? undefined : fill!.fetchNow(fileId);
      if (wanted === undefined || download === undefined) return answer(NOT_WANTED);
      f = this.#follow(wanted, download);
    }
    f.workers.add(worker);
    answer({ kind: 'filling', file: f.entry, path: f.download.path, written: f.download.written });
  }

  /** A worker exited: stop sending it progress. */
  forget(worker: number): void {
    for (const f of this.#following.values()) f.workers.delete(worker);
  }

  #follow(file: FillFile, download: Download): Following {
    const fileId = file.fileId;
    const f: Following = { download, entry: entryOf(file, this.#o.now?.() ?? Date.now()), workers: new Set(), flushQueued: false };
    this.#following.set(fileId, f);
    const flush = (): void => {
      f.flushQueued = false;
      if (this.#following.get(fileId) !== f) return;
      this.#send(f, { type: 'miss:progress', fileId, path: download.path, written: download.written });
    };
    const onProgress = (): void => {
      if (f.flushQueued) return;
      f.flushQueued = true;
      setImmediate(flush);
    };
    const onReset = (): void => this.#send(f, { type: 'miss:reset', fileId });
    download.on('progress', onProgress);
    download.on('reset', onReset);
    const end = (ok: boolean): void => {
      download.off('progress', onProgress);
      download.off('reset', onReset);
      if (this.#following.get(fileId) === f) this.#following.delete(fileId);
      this.#send(f, { type: 'miss:end', fileId, ok });
    };
    download.done.then(
      () => end(true),
      (err: unknown) => {
        this.#o.log?.warn({ fileId, err: (err as Error)?.message }, 'miss: the download viewers were streaming from failed');
        end(false);
      },
    );
    return f;
  }

  #send(f: Following, m: MainToWorker): void {
    for (const w of f.workers) this.#o.post(w, m);
  }
}

/** The entry the file will have once published, for headers up front: validators as the store's. */
function entryOf(file: FillFile, now: number): FileEntry {
  const row: Pick<FileRow, 'fileId' | 'bytes' | 'sha256' | 'kind' | 'tier' | 'root' | 'publishedAt'> = {
    fileId: file.fileId, bytes: file.bytes, sha256: file.sha256.toLowerCase(), kind: file.kind, tier: file.tier, root: '', publishedAt: now,
  };
  return { ...toEntry(row as FileRow, -1), path: '' };
}
