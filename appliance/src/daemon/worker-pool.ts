// The serving workers: one worker thread per slot, all listening on one port (reusePort). A
// worker that dies unexpectedly is restarted after a backoff (doubling while it keeps dying
// young) while the others keep answering. Also the main thread's way to talk to all of them:
// metrics collection, health and peer-credential broadcast, miss questions, drain.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { HealthView } from '../http/public-server.ts';
import { isWorkerMessage, type MainToWorker, type ViewerRefusal, type WorkerInit, type WorkerToMain } from '../http/worker-messages.ts';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** What the workers need from the fill manifest to serve peers. */
export interface PeerServing {
  siteId: string;
  publicKeys: Record<string, string>;
  /** the box's peer serving rate, bits per second; 0 = unlimited */
  rateBps: number;
}

const WORKER_URL = new URL('../http/worker.ts', import.meta.url);
/** a worker that lived this long before dying starts the backoff over */
const HEALTHY_UPTIME_MS = 10_000;
const METRICS_TIMEOUT_MS = 2_000;

export interface PoolOptions {
  count: number;
  init: (index: number) => WorkerInit;
  /** hook each new worker up to the store; returns its detach function */
  attach: (w: Worker) => () => void;
  onStats: (index: number, s: Extract<WorkerToMain, { type: 'stats' }>) => void;
  onExit: (index: number) => void;
  onDiskError: (fileId: string, message: string, code: string | undefined) => void;
  /** a worker asks about a file it does not hold; answer with post({type:'miss:answer'}, index) */
  onMissAsk: (index: number, id: number, fileId: string) => void;
  onRestart: () => void;
  restartMinMs: number;
  restartMaxMs: number;
  log: Logger;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  listening: boolean;
  startedAt: number;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  drained: boolean;
}

export class WorkerPool {
  #o: PoolOptions;
  #slots: Slot[];
  #draining = false;
  #metricsId = 0;
  #metricsWaiters = new Map<number, (m: MetricsJson) => void>();
  #drainWaiters: (() => void)[] = [];
  #health: HealthView = { status: 'ok', reasons: [] };
  #peer: PeerServing | undefined;
  #refusal: ViewerRefusal | null = null;

  constructor(o: PoolOptions) {
    this.#o = o;
    this.#slots = Array.from({ length: o.count }, (_, index) => ({
      index, worker: undefined, listening: false, startedAt: 0, failures: 0, timer: undefined, drained: false,
    }));
  }

  get wanted(): number {
    return this.#slots.length;
  }

  get alive(): number {
    return this.#slots.filter((s) => s.worker && s.listening).length;
  }

  /** Start every worker; resolves when all listen. */
  start(): Promise<void> {
    return Promise.all(this.#slots.map((s) => this.#spawn(s))).then(() => undefined);
  }

  #spawn(slot: Slot): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(WORKER_URL, { workerData: this.#o.init(slot.index) });
      slot.worker = w;
      slot.listening = false;
      slot.drained = false;
      slot.startedAt = Date.now();
      const detach = this.#o.attach(w);
      // queued until the worker's listeners are up: a restarted worker never answers peers 503,
      // nor serves viewers while they are refused
      if (this.#peer) w.postMessage(this.#peerMessage(this.#peer));
      if (this.#refusal) w.postMessage({ type: 'viewers', refuse: this.#refusal } satisfies MainToWorker);
      w.on('message', (m: unknown) => {
        if (!isWorkerMessage(m)) return;
        if (m.type === 'listening') {
          slot.listening = true;
          w.postMessage({ type: 'health', health: this.#health } satisfies MainToWorker);
          resolve();
        } else if (m.type === 'stats') this.#o.onStats(slot.index, m);
        else if (m.type === 'metrics') this.#metricsWaiters.get(m.id)?.(m.metrics);
        else if (m.type === 'disk-error') this.#o.onDiskError(m.fileId, m.message, m.code);
        else if (m.type === 'miss:ask') this.#o.onMissAsk(slot.index, m.id, m.fileId);
        else if (m.type === 'drained') {
          slot.drained = true;
          this.#checkDrained();
        }
      });
      w.on('error', (err) => {
        this.#o.log.error({ worker: slot.index, err }, 'serving worker failed');
        if (!slot.listening) reject(err);
      });
      w.on('exit', (code) => {
        detach();
        slot.worker = undefined;
        slot.listening = false;
        this.#o.onExit(slot.index);
        if (this.#draining) {
          slot.drained = true;
          this.#checkDrained();
          return;
        }
        if (Date.now() - slot.startedAt > HEALTHY_UPTIME_MS) slot.failures = 0;
        const delay = Math.min(this.#o.restartMaxMs, this.#o.restartMinMs * 2 ** slot.failures);
        slot.failures++;
        this.#o.log.warn({ worker: slot.index, code, restartInMs: delay }, 'serving worker exited; restarting');
        slot.timer = setTimeout(() => {
          slot.timer = undefined;
          if (this.#draining) return;
          this.#o.onRestart();
          this.#spawn(slot).then(
            () => this.#o.log.info({ worker: slot.index }, 'serving worker restarted'),
            () => {}, // its exit handler schedules the next try
          );
        }, delay);
      });
    });
  }

  post(m: MainToWorker, index?: number): boolean {
    const targets = index === undefined ? this.#slots : this.#slots.filter((s) => s.index === index);
    let sent = false;
    for (const s of targets) {
      if (s.worker && s.listening) {
        s.worker.postMessage(m);
        sent = true;
      }
    }
    return sent;
  }

  setHealth(h: HealthView): void {
    this.#health = h;
    this.post({ type: 'health', health: h });
  }

  /** Refuse viewers on every worker, now and after every restart (null: serve them again). */
  setViewerRefusal(r: ViewerRefusal | null): void {
    this.#refusal = r;
    this.post({ type: 'viewers', refuse: r });
  }

  /** Peer credentials and rate from the fill manifest, for every worker now and every restart. */
  setPeerServing(p: PeerServing): void {
    this.#peer = p;
    const m = this.#peerMessage(p);
    for (const s of this.#slots) s.worker?.postMessage(m);
  }

  #peerMessage(p: PeerServing): MainToWorker {
    // each worker paces its own peer responses at its share of the box's rate
    const bytesPerSec = p.rateBps > 0 ? p.rateBps / 8 / this.#slots.length : 0;
    return { type: 'peer:config', siteId: p.siteId, publicKeys: p.publicKeys, bytesPerSec };
  }

  /** Every live worker's registry as JSON (a worker that does not answer in time is skipped). */
  async collectMetrics(): Promise<MetricsJson[]> {
    const live = this.#slots.filter((s) => s.worker && s.listening);
    const answers = await Promise.all(
      live.map(
        (s) =>
          new Promise<MetricsJson | undefined>((resolve) => {
            const id = ++this.#metricsId;
            const timer = setTimeout(() => {
              this.#metricsWaiters.delete(id);
              resolve(undefined);
            }, METRICS_TIMEOUT_MS);
            this.#metricsWaiters.set(id, (m) => {
              clearTimeout(timer);
              this.#metricsWaiters.delete(id);
              resolve(m);
            });
            s.worker!.postMessage({ type: 'metrics:get', id } satisfies MainToWorker);
          }),
      ),
    );
    return answers.filter((a): a is MetricsJson => a !== undefined);
  }

  /**
   * Stop accepting on every worker and wait until each has finished its in-flight responses,
   * or the deadline passes (then the stragglers are terminated). Resolves true if all finished.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    this.#draining = true;
    for (const s of this.#slots) {
      if (s.timer) clearTimeout(s.timer);
      if (!s.worker) s.drained = true;
    }
    const all = new Promise<void>((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#checkDrained();
    });
    this.post({ type: 'drain' });
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
    ]);
    clearTimeout(timer);
    await Promise.all(this.#slots.map((s) => s.worker?.terminate()));
    return finished;
  }

  #checkDrained(): void {
    if (!this.#draining || !this.#slots.every((s) => s.drained)) return;
    for (const w of this.#drainWaiters.splice(0)) w();
  }
}
