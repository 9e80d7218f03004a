// The periodic job that keeps control's state bounded over a long run: playback sessions that
// ended (or lapsed) longer than `sessionRetentionMs` ago and spent or expired enrollment tokens
// are deleted; URL-token keys no token can need any more are dropped; steering's throughput
// estimates that faded are forgotten; heartbeat bookkeeping of lapsed sessions is let go.
// Licences leave nothing to prune: control issues them from the live session and stores none.
//
// SQLite reuses the pages freed by a delete, so with pruning the file stops growing once
// deletions keep pace with new sessions (`npm run bench:hygiene`, bench/results/hygiene.md).

import type { Control } from '../control.ts';

export interface HousekeepingRun {
  at: number;
  sessions: number;
  enrollmentTokens: number;
  urlTokenKeys: string[];
  throughputCells: number;
  heartbeatBuffers: number;
}

export class Housekeeping {
  #c: Control;
  #timer: NodeJS.Timeout | undefined;
  #keyTimer: NodeJS.Timeout | undefined;
  #running: Promise<HousekeepingRun> | undefined;
  last: HousekeepingRun | undefined;

  constructor(c: Control) { this.#c = c; }

  start(): void {
    // Another control instance on the same database may start a key rotation: every instance
    // must sign with the new key from its activation, so each re-reads the ring well within the
    // lead (a key signed with after its successor's activation could outlive the drop).
    const s = this.#c.settings;
    this.#keyTimer ??= setInterval(() => {
      this.#c.urlTokenKeys.reload().catch((err: unknown) => this.#c.log.error({ err }, 're-reading the URL-token keys failed; will retry'));
    }, Math.max(1_000, s.urlTokenKeyLeadMs / 4));
    this.#keyTimer.unref();
    const every = s.housekeepingIntervalMs;
    if (every === 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.#c.log.error({ err }, 'housekeeping failed; will retry'));
    }, every);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#keyTimer);
    this.#timer = this.#keyTimer = undefined;
  }

  /** One pass (runs at most one at a time). */
  runOnce(): Promise<HousekeepingRun> {
    this.#running ??= this.#pass().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #pass(): Promise<HousekeepingRun> {
    const c = this.#c, now = c.now(), s = c.settings;
    const before = now - s.sessionRetentionMs;
    await c.urlTokenKeys.reload();
    const run: HousekeepingRun = {
      at: now,
      sessions: await c.repo.pruneSessions(before),
      enrollmentTokens: await c.repo.pruneEnrollmentTokens(Math.floor(before / 1000)),
      urlTokenKeys: await c.urlTokenKeys.prune(now),
      throughputCells: c.throughput.sweep(now),
      heartbeatBuffers: c.heartbeatSamples.prune(now - s.sessionTtlMs),
    };
    c.metrics.pruned.inc({ what: 'sessions' }, run.sessions);
    c.metrics.pruned.inc({ what: 'enrollment_tokens' }, run.enrollmentTokens);
    c.metrics.pruned.inc({ what: 'url_token_keys' }, run.urlTokenKeys.length);
    c.metrics.pruned.inc({ what: 'throughput_cells' }, run.throughputCells);
    if (run.sessions + run.enrollmentTokens + run.urlTokenKeys.length > 0) c.log.info(run, 'housekeeping pruned the store');
    this.last = run;
    return run;
  }
}
