// The one download of a file: stage it in the store, walk the escalation over its ranked
// sources, stream each try into the staged put, and commit. A try that dies mid-file leaves its
// bytes in the partial and the next try (same source or the next) asks for the rest with Range.
// A file that fails verification is blamed on the sources that wrote it (reported, not tried
// again for this file), its partial emptied ('reset'), and the download goes on from zero.
// A 404 from a peer or tier source is "not yet" (control lists planned holders): not a failure
// (reported once if the manifest said that source holds the file); when the level has nothing
// else to try the scheduled download ends 'deferred' and the engine comes back to the file
// (escalation.ts). A miss does not wait for such sources: it skips the ones
// the manifest marks `notYet` and takes a 404 as "try the next one".

import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import type { FillFile, FillLevel, FillManifest, FillSource } from '../../../protocol/index.ts';
import { StoreError } from '../store/errors.ts';
import type { Store, StoredFile } from '../store/store.ts';
import type { FillClock } from './clock.ts';
import { Escalation, type EscalationMemory } from './escalation.ts';
import { FillError, SourceFailure } from './errors.ts';
import type { Download } from './fill-handle.ts';
import type { FillSettings } from './settings.ts';
import type { FillStats } from './fill-stats.ts';
import { fetchFromSource } from './source-fetch.ts';
import type { TokenBucket } from './token-bucket.ts';

export interface DownloadDeps {
  store: Store;
  settings: FillSettings;
  clock: FillClock;
  bucket: TokenBucket;
  dispatcher: Dispatcher;
  stats: FillStats;
}

export class FileDownload extends EventEmitter implements Download {
  readonly fileId: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly startedAt: number;
  path = '';
  written = 0;
  source: { id: string; level: FillLevel } | null = null;
  /** the store root the file is staged on (null until staged) */
  root: string | null = null;
  /** asked for by a viewer (a miss): the window closing does not stop it */
  urgent = false;
  readonly done: Promise<StoredFile>;
  #abort = new AbortController();
  #keepPartial = true;

  /**
   * `memory`: the file's escalation so far, kept by the engine while the file is deferred;
   * `after`: a stopping download of the same file, whose end (and release of the partial) this
   * one waits for before it stages the file
   */
  constructor(file: FillFile, manifest: FillManifest, deps: DownloadDeps, memory?: EscalationMemory, after?: Promise<unknown>) {
    super();
    this.fileId = file.fileId;
    this.bytes = file.bytes;
    this.sha256 = file.sha256;
    this.startedAt = deps.clock.now();
    this.done = run(this, file, manifest, deps, this.#abort.signal, () => this.#keepPartial, memory, after);
    this.done.catch(() => {}); // the engine and any viewer see the rejection through `done`
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Stop it (window closed, file no longer wanted, daemon draining); `done` rejects 'stopped'. */
  stop(keepPartial: boolean): void {
    this.#keepPartial = keepPartial;
    this.#abort.abort();
  }

  /** @internal */
  progress(written: number): void {
    this.written = written;
    this.emit('progress', written);
  }

  /** @internal */
  reset(): void {
    this.written = 0;
    this.emit('reset');
  }
}

/** A Download for a file already held: nothing to wait for. */
export function heldDownload(f: StoredFile): Download {
  return Object.assign(new EventEmitter(), {
    fileId: f.fileId, bytes: f.bytes, path: f.path, written: f.bytes, source: null, done: Promise.resolve(f),
  });
}

/** The file's sources; for a miss, without those the manifest says do not have it yet (unless none would be left). */
function sourcesOf(file: FillFile, m: FillManifest, urgent: boolean): FillSource[] {
  const byId = new Map(m.sources.map((s) => [s.id, s]));
  const all = file.sources.flatMap((id) => byId.get(id) ?? []);
  if (!urgent || !file.notYet?.length) return all;
  const ready = all.filter((s) => !file.notYet!.includes(s.id));
  return ready.length > 0 ? ready : all;
}

async function run(
  dl: FileDownload, file: FillFile, m: FillManifest, deps: DownloadDeps, signal: AbortSignal, keepPartial: () => boolean,
  memory: EscalationMemory | undefined, after: Promise<unknown> | undefined,
): Promise<StoredFile> {
  const { store, stats, clock, settings } = deps;
  await Promise.resolve(); // let the constructor finish before anything can emit
  if (after) {
    await after.catch(() => {});
    if (signal.aborted) throw new FillError('stopped', `${file.fileId}: stopped`);
    // it finished after all (its commit was under way when it was stopped)
    if (store.has(file.fileId, file.sha256)) return store.get(file.fileId)!;
  }
  const staged = await store.stage(file.fileId, { bytes: file.bytes, sha256: file.sha256, kind: file.kind, rank: file.rank, tier: file.tier });
  dl.path = staged.path;
  dl.root = staged.root;
  dl.progress(staged.written);
  const escalation = new Escalation(sourcesOf(file, m, dl.urgent), m.escalation, {
    now: () => clock.now(), retryMs: settings.sourceRetryMs, originMs: settings.originMs,
    notYetRetryMs: settings.notYetRetryMs, notYetRetryMaxMs: settings.notYetRetryMaxMs, memory,
  });
  /** bytes in the current partial, by the level of the source that wrote them */
  const inPartial = new Map<string, { level: FillLevel; bytes: number }>();
  /** the partial began with bytes from an earlier attempt, which may be the wrong ones */
  let oldPrefix = staged.resumedFrom > 0;
  let keep = true;
  try {
    for (;;) {
      if (signal.aborted) throw new FillError('stopped', `${file.fileId}: stopped`);
      const step = escalation.next();
      if (step.kind === 'exhausted') throw new FillError('no_sources', `${file.fileId}: every source the escalation allows failed`);
      if (step.kind === 'wait') {
        await clock.sleep(step.ms, signal);
        continue;
      }
      if (step.kind === 'defer') {
        if (!dl.urgent) throw new FillError('deferred', `${file.fileId}: its sources do not have it yet`, step.ms);
        escalation.giveUpNotYet(); // became a miss while waiting for them: a viewer does not wait
        continue;
      }
      const src = step.source;
      dl.source = { id: src.id, level: src.level };
      const before = staged.written;
      try {
        if (staged.written < staged.bytes) {
          await fetchFromSource(src, file.fileId, staged, {
            dispatcher: deps.dispatcher, token: m.peer.token, bucket: deps.bucket, clock, timeoutMs: settings.sourceTimeoutMs, signal,
            onBytes: (n) => { stats.bytes[src.level] += n; },
            onWritten: (w) => dl.progress(w),
            pipeline: stats.pipeline,
          }).finally(() => notePartial(inPartial, src, staged.written - before));
        }
        const stored = await staged.commit();
        stats.files[src.level]++;
        return stored;
      } catch (err) {
        dl.source = null;
        if (err instanceof StoreError && err.code === 'SHA256_MISMATCH') {
          // commit emptied the partial: every source that wrote into it is suspect — unless it
          // began with an earlier attempt's bytes (a stale or damaged partial): then nobody is
          blame(inPartial, file.fileId, oldPrefix ? null : 'sha256_mismatch', deps, escalation);
          oldPrefix = false;
          dl.reset();
          continue;
        }
        if (!(err instanceof SourceFailure)) throw err;
        if (err.status === 404 && src.level !== 'origin' && !dl.urgent) {
          stats.notYet[src.level]++;
          // listed as holding it, yet it has not: control's view is behind; said once per file
          if (escalation.notYet(src.id) && !file.notYet?.includes(src.id)) stats.sourceFailed(src.id, src.level, file.fileId, err.reason, clock.now());
          continue;
        }
        stats.sourceFailed(src.id, src.level, file.fileId, err.reason, clock.now());
        escalation.failed(src.id, err.permanent);
        if (err.reason === 'size_mismatch' && staged.written > before) {
          // it sent more than the file: what it wrote may be wrong too
          await staged.reset();
          blame(inPartial, file.fileId, null, deps, escalation);
          dl.reset();
        }
      }
    }
  } catch (err) {
    // a full disk or a dropped file: free the room; otherwise keep the bytes to resume later
    const code = (err as StoreError | FillError).code;
    keep = code === 'no_sources' || code === 'deferred' || (code === 'stopped' && keepPartial());
    if (code === 'no_sources') stats.downloadsFailed++;
    throw err;
  } finally {
    dl.source = null;
    await staged.abort({ keepPartial: keep && staged.written > 0 }); // no-op after a commit
  }
}

function notePartial(inPartial: Map<string, { level: FillLevel; bytes: number }>, src: FillSource, n: number): void {
  if (n <= 0) return;
  const e = inPartial.get(src.id) ?? { level: src.level, bytes: 0 };
  e.bytes += n;
  inPartial.set(src.id, e);
}

/** The partial was thrown away: count its bytes as failed, report and exclude who wrote them. */
function blame(
  inPartial: Map<string, { level: FillLevel; bytes: number }>, fileId: string, reason: 'sha256_mismatch' | null,
  deps: DownloadDeps, escalation: Escalation,
): void {
  for (const [sourceId, e] of inPartial) {
    deps.stats.failedBytes[e.level] += e.bytes;
    if (reason) {
      deps.stats.sourceFailed(sourceId, e.level, fileId, reason, deps.clock.now());
      escalation.failed(sourceId, true);
    }
  }
  inPartial.clear();
}
