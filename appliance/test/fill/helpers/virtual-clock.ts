// A FillClock tests drive by hand: sleeps and timers fire only when run() moves time forward.

import type { FillClock } from '../../../src/fill/clock.ts';

interface Timer {
  at: number;
  fire: () => void;
  every?: number;
}

export class VirtualClock implements FillClock {
  t = 1_800_000_000_000;
  #timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => unknown): () => void {
    const timer: Timer = { at: this.t + ms, fire: () => void fn(), every: ms };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== timer);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.t + Math.max(0, ms), fire: resolve };
      this.#timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.#timers = this.#timers.filter((x) => x !== timer);
        resolve();
      }, { once: true });
    });
  }

  /** Move time to `until`, firing due timers in order and letting what they wake run. */
  async run(until: number): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const due = this.#timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every) due.at += due.every;
      else this.#timers = this.#timers.filter((x) => x !== due);
      due.fire();
    }
    this.t = until;
  }
}
