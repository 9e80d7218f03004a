// One token bucket shared by every download of the box: each chunk takes its bytes before it is
// written, so all downloads together stay at the manifest's rate limit however many run.
//
// Debt form: take(n) always debits n (the balance may go negative) and waits until the balance
// would be back at zero. Waiters queue by arrival, the long-run rate is exact, and a chunk larger
// than the burst needs no special case. The balance never banks more than `burstMs` of rate, so
// an idle spell does not turn into a burst above the limit. Rate 0 = unlimited.

import type { FillClock } from './clock.ts';

export class TokenBucket {
  #clock: FillClock;
  #burstMs: number;
  /** bytes per second; 0 = unlimited */
  #rate = 0;
  #tokens = 0;
  #at: number;

  constructor(bytesPerSec: number, clock: FillClock, burstMs = 100) {
    this.#clock = clock;
    this.#burstMs = burstMs;
    this.#at = clock.now();
    this.setRate(bytesPerSec);
  }

  get rate(): number {
    return this.#rate;
  }

  /** Change the rate (a new manifest); the debt already owed is kept, at the new rate. */
  setRate(bytesPerSec: number): void {
    this.#refill();
    this.#rate = bytesPerSec > 0 ? bytesPerSec : 0;
    if (this.#rate === 0) this.#tokens = 0;
  }

  #refill(): void {
    const now = this.#clock.now();
    if (this.#rate > 0 && now > this.#at) {
      this.#tokens = Math.min(this.#rate * this.#burstMs / 1000, this.#tokens + (now - this.#at) * this.#rate / 1000);
    }
    this.#at = now;
  }

  /** Debit `bytes` now; how long the caller must wait before sending them (0: go ahead). */
  reserve(bytes: number): number {
    if (this.#rate === 0) return 0;
    this.#refill();
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : -this.#tokens * 1000 / this.#rate;
  }

  /** Debit `bytes` and wait for them to be due (returns early if `signal` aborts). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(bytes);
    if (wait > 0) await this.#clock.sleep(wait, signal);
  }
}
