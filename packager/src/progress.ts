// Overall progress over weighted stages, with an ETA from the elapsed time. The clock is
// injected so a test can drive it.

export interface ProgressEvent {
  stage: string;
  /** 0..100 over the whole run */
  percent: number;
  /** seconds left, once there is enough progress to estimate */
  etaS?: number;
  message?: string;
}

export class Progress {
  #weights: Record<string, number>;
  #done = 0;
  #total: number;
  #start: number;
  #now: () => number;
  #emit: (e: ProgressEvent) => void;
  #last = -1;

  constructor(weights: Record<string, number>, emit: (e: ProgressEvent) => void, now: () => number = Date.now) {
    this.#weights = weights;
    this.#total = Object.values(weights).reduce((a, b) => a + b, 0);
    this.#now = now;
    this.#start = now();
    this.#emit = emit;
  }

  /** A reporter for one stage: call it with that stage's fraction done. */
  stage(name: string): (fraction: number, message?: string) => void {
    const base = this.#done;
    const w = this.#weights[name] ?? 0;
    this.#done += w;
    return (fraction, message) => this.#report(name, base + w * Math.min(1, Math.max(0, fraction)), message);
  }

  #report(stage: string, done: number, message?: string): void {
    const percent = Math.min(100, (100 * done) / this.#total);
    // Progress bars want steady steps, not thousands of events.
    if (!message && percent < 100 && Math.floor(percent) === this.#last) return;
    this.#last = Math.floor(percent);
    const elapsed = (this.#now() - this.#start) / 1000;
    const etaS = percent >= 2 ? Math.round((elapsed * (100 - percent)) / percent) : undefined;
    this.#emit({ stage, percent: Math.round(percent * 10) / 10, etaS, message });
  }
}
