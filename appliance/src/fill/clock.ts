// Fill's sense of time: the store's clock (now, every) plus sleep, which the token bucket and the
// escalation waits use. Tests pass a virtual clock and drive time; the daemon uses the system
// clock, whose timers are unref'd so they never keep a process alive.

import type { Clock } from '../store/clock.ts';

export interface FillClock extends Clock {
  /** resolves after `ms`, or early (without throwing) when `signal` aborts */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemFillClock: FillClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      t.unref();
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};
