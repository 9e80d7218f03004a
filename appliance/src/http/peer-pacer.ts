// The peer serving rate limit (fill manifest `peerServeRateBps`), so fill traffic to other
// appliances never starves viewers: one token bucket per worker at its share of the box's rate,
// shared by every peer response of the worker. Every body write takes its bytes (the bucket goes
// into debt, so concurrent responses queue behind each other in order); once the debt reaches a
// quantum — about PACE_MS at the rate, at least one read chunk — the write waits until it is paid
// off. So a paced response wakes a few dozen times a second rather than once per 512 KiB chunk,
// and the long-run rate is still exact; the socket's own backpressure still applies after a wait.
// Viewer responses never touch it.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHUNK_BYTES, type BodyHooks } from './disk-reader.ts';
import type { ServeMetrics } from './serve-metrics.ts';

/** the debt a paced write may run up before it waits, in time at the rate */
const PACE_MS = 40;

export class PeerPacer {
  #bytesPerSec = 0;
  #burst = CHUNK_BYTES;
  #quantum = CHUNK_BYTES;
  #tokens = 0;
  #at = 0;
  #metrics: ServeMetrics;
  #now: () => number;
  #hooks: BodyHooks = { pace: (n) => this.take(n) };

  constructor(metrics: ServeMetrics, now: () => number = () => performance.now()) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /** this worker's share of the peer rate, bytes per second; 0 = unlimited */
  get bytesPerSec(): number {
    return this.#bytesPerSec;
  }

  setRate(bytesPerSec: number): void {
    if (bytesPerSec === this.#bytesPerSec) return;
    this.#bytesPerSec = bytesPerSec;
    // a burst of one read chunk, or 50 ms at the rate when that is more
    this.#burst = Math.max(CHUNK_BYTES, bytesPerSec / 20);
    this.#quantum = Math.max(CHUNK_BYTES, (bytesPerSec * PACE_MS) / 1000);
    // a new rate starts with a full bucket (rates change only with a new manifest)
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Hooks for one peer response body; undefined when peers are not rate limited. */
  get hooks(): BodyHooks | undefined {
    return this.#bytesPerSec > 0 ? this.#hooks : undefined;
  }

  /** Take n bytes' worth of tokens: undefined to write now, else a promise to wait on first. */
  take(n: number): Promise<void> | undefined {
    const rate = this.#bytesPerSec;
    if (rate <= 0) return undefined;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * rate);
    this.#at = now;
    this.#tokens -= n;
    if (this.#tokens >= 0) return undefined;
    this.#metrics.peerPacedBytes += n; // sent under the limit's control, waited for or not
    if (-this.#tokens < this.#quantum) return undefined;
    const waitMs = (-this.#tokens / rate) * 1000;
    this.#metrics.peerPacingSeconds += waitMs / 1000;
    return sleep(Math.ceil(waitMs));
  }
}
