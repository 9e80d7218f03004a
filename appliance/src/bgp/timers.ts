// The clock a session runs on (injectable, so tests and simulations can drive time) and the
// named one-shot timers of RFC 4271 §10: ConnectRetry, Hold and Keepalive.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

export class SessionTimers {
  readonly clock: Timers;
  #handles = new Map<TimerName, unknown>();

  constructor(clock: Timers) {
    this.clock = clock;
  }

  /** (Re)start a timer: any pending one of the same name is cancelled first. */
  arm(name: TimerName, sec: number, fn: () => void): void {
    this.clear(name);
    this.#handles.set(name, this.clock.setTimeout(() => {
      this.#handles.delete(name);
      fn();
    }, sec * 1000));
  }

  armed(name: TimerName): boolean {
    return this.#handles.has(name);
  }

  clear(name: TimerName): void {
    const h = this.#handles.get(name);
    if (h !== undefined) {
      this.clock.clearTimeout(h);
      this.#handles.delete(name);
    }
  }
}
