// The store's only sense of time. Tests pass a manual clock and step it; the daemon uses the
// system clock, whose timers are unref'd so they never keep a process alive.

export interface Clock {
  now(): number;
  /** call `fn` every `ms` until the returned function is called */
  every(ms: number, fn: () => unknown): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};
