// The fill engine (main thread): holds the manifest, and every tick — and whenever a download
// ends or a manifest arrives — decides what runs. Inside the window (or while the operator forces
// it) it starts downloads of missing wanted files, most popular first, up to `downloadsPerSsd` /
// `downloadsPerHdd` per store root, all sharing one token bucket at the manifest's rate; outside
// it, scheduled downloads stop (their partials kept) and only misses (fetchNow) run. A full disk
// stops filling (blocked 'no_space') until the next manifest, the next window or `retryMs`.
// A file whose peer or tier sources say "not yet" (404) gives its slot up and is come back to
// later, behind the files that can be fetched now, its escalation going on (deferrals.ts).
// Once every wanted file is in, files the manifest dropped are evicted (eviction.ts).

import { EventEmitter } from 'node:events';
import { Agent, type Dispatcher } from 'undici';
import { fillWindowState, type FillFile, type FillManifest, type FillReport } from '../../../protocol/index.ts';
import { StoreError } from '../store/errors.ts';
import type { StoreLogger } from '../store/options.ts';
import type { Store } from '../store/store.ts';
import { systemFillClock, type FillClock } from './clock.ts';
import { Deferrals } from './deferrals.ts';
import { FileDownload, heldDownload, type DownloadDeps } from './download.ts';
import { FillError } from './errors.ts';
import { evictReplaced, ranksFor, roomFromUnwanted } from './eviction.ts';
import type { Download, FillHandle } from './fill-handle.ts';
import { FillStats } from './fill-stats.ts';
import { blockedReason, fillReport, fillStatus, type FillStatus, type FillStatusInput } from './fill-status.ts';
import type { FillSettings } from './settings.ts';
import { downloadsFor, type DriveKind } from './disk-downloads.ts';
import { FillRate, type ServingLoad } from './viewer-yield.ts';

export type FillBlocked = FillReport['blocked'];

export interface FillEngineInit {
  store: Store;
  settings: FillSettings;
  clock?: FillClock;
  /** undici dispatcher for the sources; default: an Agent with the settings' timeouts */
  dispatcher?: Dispatcher;
  log?: StoreLogger;
  /** the box's CPU and viewer load, looked at each tick while downloads run (viewer-yield.ts) */
  servingLoad?: () => ServingLoad | null;
  /** what drive is under each store root (by path), from the hardware probe: downloadsPerSsd "auto" */
  driveKinds?: ReadonlyMap<string, DriveKind>;
}

export class FillEngine extends EventEmitter implements FillHandle {
  readonly stats = new FillStats();
  readonly settings: FillSettings;
  /** scheduler passes run so far (tests wait on it instead of on time) */
  passes = 0;
  #store: Store;
  #clock: FillClock;
  #log: StoreLogger;
  #dispatcher: Dispatcher;
  #ownDispatcher: boolean;
  #rate: FillRate;
  #servingLoad: (() => ServingLoad | null) | undefined;
  #deps: DownloadDeps;
  readonly #driveKinds: ReadonlyMap<string, DriveKind>;
  #manifest: FillManifest | null = null;
  #wanted = new Map<string, FillFile>();
  #active = new Map<string, FileDownload>();
  /** files whose download was given up: not started again before this time */
  #retryAt = new Map<string, number>();
  /** files whose sources do not have them yet */
  #deferred = new Deferrals();
  #noSpaceUntil = 0;
  #noSources = false;
  #controlReachable = true;
  #paused = false;
  #windowOpen = false;
  #evictPending = false;
  #stopTimer: () => void = () => {};
  #pumping: Promise<void> | null = null;
  #pumpAgain = false;
  #stopped = false;
  #onVersion: (version: string | undefined) => void = () => {};

  constructor(o: FillEngineInit) {
    super();
    this.settings = o.settings;
    this.#driveKinds = o.driveKinds ?? new Map();
    this.#store = o.store;
    this.#clock = o.clock ?? systemFillClock;
    this.#log = o.log ?? { info() {}, warn() {}, error() {} };
    this.#ownDispatcher = !o.dispatcher;
    this.#dispatcher = o.dispatcher ?? new Agent({ connect: { timeout: o.settings.sourceTimeoutMs }, headersTimeout: o.settings.sourceTimeoutMs, bodyTimeout: o.settings.sourceTimeoutMs });
    this.#rate = new FillRate(this.#clock);
    this.#servingLoad = o.servingLoad;
    this.#deps = { store: o.store, settings: o.settings, clock: this.#clock, bucket: this.#rate.bucket, dispatcher: this.#dispatcher, stats: this.stats };
  }

  get manifest(): FillManifest | null {
    return this.#manifest;
  }

  get blocked(): FillBlocked {
    if (this.#clock.now() < this.#noSpaceUntil) return 'no_space';
    if (!this.#manifest && !this.#controlReachable) return 'control_unreachable';
    return this.#noSources ? 'no_sources' : null;
  }

  /** Start the scheduler's tick. */
  start(): void {
    this.#stopTimer = this.#clock.every(this.settings.tickMs, () => {
      const b = this.stats.bytes;
      const was = this.#rate.share;
      this.#rate.tick(b.peer + b.tier + b.origin, this.#active.size > 0 ? (this.#servingLoad?.() ?? null) : null);
      const share = this.#rate.share;
      if ((was < 1) !== (share < 1)) {
        this.#log.info({ rateBytesPerSec: this.#rate.bucket.rate }, share < 1 ? 'fill: yielding the CPU to viewers' : 'fill: back to its full rate');
      }
      this.pump();
    });
    this.pump();
  }

  /** Called with control's manifest version from each report reply (the manifest sync listens). */
  noteManifestVersion(version: string | undefined): void {
    this.#onVersion(version);
  }

  /** @internal the manifest sync's hook for noteManifestVersion */
  onManifestVersion(fn: (version: string | undefined) => void): void {
    this.#onVersion = fn;
  }

  /** Whether the last manifest request reached control (a box with no manifest at all is blocked). */
  setControlReachable(ok: boolean): void {
    this.#controlReachable = ok;
  }

  /**
   * Pause scheduled fill (the daemon does while control is away: the plan may be stale and control
   * cannot hear what was filled) or resume it. Like a closed window: scheduled downloads stop and
   * keep their partials; misses go on.
   */
  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    this.#log.info({ paused }, paused ? 'fill: paused' : 'fill: resumed');
    this.pump();
  }

  /** Take on a manifest: ranks to the store, downloads of dropped files stopped, then schedule. */
  setManifest(m: FillManifest): void {
    const changed = this.#manifest?.version !== m.version;
    const before = this.#wanted;
    this.#manifest = m;
    this.#wanted = new Map(m.files.map((f) => [f.fileId, f]));
    this.#rate.setLimit(m.rateLimitBps / 8);
    this.#store.setPopularity(ranksFor(m, this.#store.list(), before.keys()));
    for (const dl of this.#active.values()) {
      const f = this.#wanted.get(dl.fileId);
      if (!f || f.bytes !== dl.bytes || f.sha256 !== dl.sha256) dl.stop(false);
    }
    if (changed) {
      // a new plan: a full disk or dead sources are worth another look
      this.#noSpaceUntil = 0;
      this.#retryAt.clear();
      this.#noSources = false;
    }
    this.#deferred.manifest(this.#wanted);
    this.#evictPending = true;
    void this.#discardUnwantedPartials();
    this.#log.info({ version: m.version, files: m.files.length, rateLimitBps: m.rateLimitBps }, 'fill: manifest taken on');
    this.emit('manifest', m);
    this.pump();
  }

  wanted(fileId: string): FillFile | undefined {
    return this.#wanted.get(fileId);
  }

  fetchNow(fileId: string): Download | undefined {
    const f = this.#wanted.get(fileId);
    if (!f || !this.#manifest || this.#stopped) return undefined;
    const running = this.#active.get(fileId);
    // a stopping download (window closed, pause, file changed) only rejects 'stopped': it is never
    // joined. The miss gets a fresh download that begins once the stopping one has let the file go
    // (its partial kept or dropped), and takes its place as THE download of the file.
    if (running && !running.stopped) {
      running.urgent = true;
      return running;
    }
    const held = this.#store.has(fileId, f.sha256) ? this.#store.get(fileId) : undefined;
    if (held) return heldDownload(held);
    return this.#start(f, this.#manifest, true, running?.done);
  }

  /** Run the scheduler once (coalesced: a call while one runs makes it run again after). */
  pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#schedule()
      .catch((err: unknown) => this.#log.error({ err }, 'fill: scheduling failed'))
      .finally(() => {
        this.#pumping = null;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.pump();
        }
      });
  }

  /** Wanted files not held (with the manifest's content), most popular first. */
  missing(): FillFile[] {
    return [...this.#wanted.values()].filter((f) => !this.#store.has(f.fileId, f.sha256)).sort((a, b) => a.rank - b.rank);
  }

  async #schedule(): Promise<void> {
    this.passes++;
    const m = this.#manifest;
    if (!m) return;
    const now = this.#clock.now();
    const w = fillWindowState(m.window, now, m.fillNowUntil);
    const open = w.open && !this.#paused;
    if (open && !this.#windowOpen) {
      // a new window: try what failed in the last one again, and wait for sources afresh
      this.#noSpaceUntil = 0;
      this.#retryAt.clear();
      this.#deferred.clear();
    }
    this.#windowOpen = open;
    const missing = this.missing();
    if (missing.length === 0) {
      this.#noSources = false;
      if (this.#evictPending) {
        const evicted = evictReplaced(this.#store, this.#wanted);
        if (evicted.length) this.#log.info({ evicted: evicted.length }, 'fill: evicted files the manifest dropped');
        // files still read are tried again next tick
        this.#evictPending = this.#store.list().length > this.#wanted.size;
      }
      return;
    }
    if (!open) {
      for (const dl of this.#active.values()) if (!dl.urgent) dl.stop(true);
      return;
    }
    if (now < this.#noSpaceUntil) return;
    let waiting = 0;
    for (const f of this.#deferred.queue(missing, now)) {
      if (this.#active.has(f.fileId)) continue;
      if ((this.#retryAt.get(f.fileId) ?? 0) > now) {
        waiting++;
        continue;
      }
      if (this.#active.size >= this.#capacity()) break;
      // downloads started but not yet staged have not reserved their room yet: count them, or two
      // files would be promised the same room and one fail NO_SPACE (blocking fill for retryMs)
      const unreserved = this.#unreservedBytes();
      const room = await roomFromUnwanted(this.#store, f.bytes + unreserved, this.#wanted);
      // once they have reserved theirs, the next tick knows whether this file fits
      if (room === 'full' && unreserved > 0) break;
      if (room === 'full') {
        this.#blockNoSpace(`no root has room for ${f.fileId} (${f.bytes} bytes) and nothing unwanted can go`);
        break;
      }
      // the room is held by unwanted files being read: not a full disk; the next tick looks again
      if (room === 'reads') continue;
      const root = this.#store.rootFor(f.bytes, f.tier);
      if (!root || this.#activeOn(root.path) >= this.limitOf(root)) continue;
      if (this.#stopped || this.#manifest !== m || this.#active.has(f.fileId)) return;
      this.#start(f, m, false);
    }
    this.#noSources = waiting > 0 && this.#active.size === 0 && waiting === missing.length;
  }

  /** downloads at once on this root */
  limitOf(root: { path: string; tier: 'ssd' | 'hdd' }): number {
    return downloadsFor(root.tier, this.#driveKinds.get(root.path), this.settings);
  }

  #capacity(): number {
    return this.#store.roots.reduce((n, r) => n + this.limitOf(r), 0);
  }

  #activeOn(root: string): number {
    let n = 0;
    for (const dl of this.#active.values()) if (dl.root === root || dl.root === null) n++;
    return n;
  }

  #unreservedBytes(): number {
    let n = 0;
    for (const dl of this.#active.values()) if (dl.root === null) n += dl.bytes;
    return n;
  }

  #blockNoSpace(why: string): void {
    if (this.#clock.now() >= this.#noSpaceUntil) this.#log.warn({ why, retryInMs: this.settings.retryMs }, 'fill: blocked, no space');
    this.#noSpaceUntil = this.#clock.now() + this.settings.retryMs;
  }

  /** `after`: the end of a stopping download of the same file, which this one waits for */
  #start(f: FillFile, m: FillManifest, urgent: boolean, after?: Promise<unknown>): FileDownload {
    const dl = new FileDownload(f, m, this.#deps, this.#deferred.memory(f), after);
    dl.urgent = urgent;
    this.#active.set(f.fileId, dl);
    dl.done.then(
      (stored) => {
        this.#log.info({ fileId: stored.fileId, bytes: stored.bytes, tier: stored.tier }, 'fill: file published');
        this.#retryAt.delete(f.fileId);
        this.#deferred.forget(f.fileId);
        this.#evictPending = true;
      },
      (err: unknown) => {
        const code = (err as StoreError | FillError).code;
        if (code === 'deferred') return this.#deferred.defer(f, this.#clock.now() + (err as FillError).retryInMs);
        this.#deferred.forget(f.fileId);
        if (code === 'NO_SPACE') this.#blockNoSpace((err as Error).message);
        else if (code !== 'stopped') {
          this.#retryAt.set(f.fileId, this.#clock.now() + this.settings.retryMs);
          this.#log.warn({ fileId: f.fileId, err: (err as Error).message, code }, 'fill: download given up; retried later');
        }
      },
    ).finally(() => {
      if (this.#active.get(f.fileId) === dl) this.#active.delete(f.fileId);
      this.pump();
    });
    return dl;
  }

  async #discardUnwantedPartials(): Promise<void> {
    try {
      for (const p of await this.#store.partials()) {
        if (!this.#wanted.has(p.fileId)) await this.#store.discardPartial(p.fileId);
      }
    } catch (err) {
      this.#log.warn({ err }, 'fill: could not clear partial files');
    }
  }

  /** The report section (ApplianceReport.fill). */
  report(): FillReport {
    return fillReport(this.#statusInput(), this.#manifest?.version);
  }

  /** The /v1/status section. */
  status(): FillStatus {
    return fillStatus(this.#statusInput());
  }

  #statusInput(): FillStatusInput {
    return {
      manifest: this.#manifest, now: this.#clock.now(), store: this.#store, wanted: this.#wanted,
      active: [...this.#active.values()], stats: this.stats, blocked: this.blocked, rateBytesPerSec: this.#rate.bucket.rate,
      deferred: this.#deferred.waiting(this.#clock.now()),
    };
  }

  /** A reason for the health report while fill is blocked; null otherwise. */
  healthReason(): string | null {
    return blockedReason(this.blocked);
  }

  /** Stop: scheduled and miss downloads end (partials kept for the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopTimer();
    const running = [...this.#active.values()];
    for (const dl of running) dl.stop(true);
    await Promise.allSettled(running.map((d) => d.done));
    await this.#pumping;
    if (this.#ownDispatcher) await this.#dispatcher.destroy().catch(() => {});
  }
}
