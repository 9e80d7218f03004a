// Keeping the engine's manifest current: the saved one at start, then control's — fetched at
// start, whenever a report reply names a version other than the one held, and every
// `manifestRefreshMs` as a fallback. One request at a time; a failure leaves the held manifest in
// force (and marks control unreachable, which blocks fill only while no manifest is held).

import type { StoreLogger } from '../store/options.ts';
import type { FillClock } from './clock.ts';
import type { FillEngine } from './engine.ts';
import { loadSavedManifest, type ManifestClient, saveManifest } from './manifest-client.ts';

export class ManifestSync {
  #client: ManifestClient;
  #engine: FillEngine;
  #stateDir: string;
  #clock: FillClock;
  #log: StoreLogger;
  #refreshMs: number;
  #inFlight: Promise<void> | null = null;
  #again = false;
  #stopTimer: () => void = () => {};
  #stopped = false;
  /** fetches that brought a new manifest / found it unchanged / failed (for tests and status) */
  readonly counts = { fetched: 0, notModified: 0, failed: 0 };

  constructor(o: { client: ManifestClient; engine: FillEngine; stateDir: string; clock: FillClock; log: StoreLogger; refreshMs: number }) {
    this.#client = o.client;
    this.#engine = o.engine;
    this.#stateDir = o.stateDir;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#refreshMs = o.refreshMs;
  }

  /** Give the engine the saved manifest (if any), then start fetching control's. */
  async start(): Promise<void> {
    const saved = await loadSavedManifest(this.#stateDir);
    if (saved) {
      this.#log.info({ version: saved.version }, 'fill: using the saved manifest until control answers');
      this.#engine.setManifest(saved);
    }
    this.#engine.onManifestVersion((v) => {
      if (v !== undefined && v !== this.#engine.manifest?.version) void this.refresh();
    });
    this.#stopTimer = this.#clock.every(this.#refreshMs, () => this.refresh());
    void this.refresh();
  }

  /** Fetch now (coalesced with one in flight: a request made meanwhile runs once more after it). */
  refresh(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = this.#fetch().finally(() => {
      this.#inFlight = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    try {
      const a = await this.#client.fetch(this.#engine.manifest?.version ?? null);
      if (this.#stopped) return;
      if (a.kind === 'no-credential') return; // the reporter has not enrolled yet: its first reply calls us
      this.#engine.setControlReachable(true);
      if (a.kind === 'no-plan') return; // keep what is held; control names a version once it has one
      if (a.kind === 'not-modified') {
        this.counts.notModified++;
        return;
      }
      this.counts.fetched++;
      try {
        await saveManifest(this.#stateDir, a.manifest);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'fill: could not save the manifest; using it anyway');
      }
      if (!this.#stopped) this.#engine.setManifest(a.manifest);
    } catch (err) {
      this.counts.failed++;
      this.#engine.setControlReachable(false);
      this.#log.warn({ err: (err as Error).message }, 'fill: manifest request failed; keeping the one held');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopTimer();
    await this.#inFlight?.catch(() => {});
  }
}
