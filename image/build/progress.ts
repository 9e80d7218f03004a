// Progress lines for `npm run image`: "[image   12.3s] step: detail", one per step, so a human (or
// CI's log) sees where a slow build is. Timings of each step are kept for the summary.

export class Progress {
  readonly #start = Date.now();
  readonly #quiet: boolean;
  readonly steps: { step: string; ms: number }[] = [];
  #current: { step: string; at: number } | null = null;

  constructor(quiet = false) {
    this.#quiet = quiet;
  }

  get elapsedMs(): number {
    return Date.now() - this.#start;
  }

  line(step: string, detail = ''): void {
    if (this.#quiet) return;
    const t = (this.elapsedMs / 1000).toFixed(1).padStart(6);
    process.stdout.write(`[image ${t}s] ${step}${detail ? `: ${detail}` : ''}\n`);
  }

  /** Starts a timed step (ending the previous one). */
  step(step: string, detail = ''): void {
    this.end();
    this.#current = { step, at: Date.now() };
    this.line(step, detail);
  }

  end(): void {
    if (this.#current) this.steps.push({ step: this.#current.step, ms: Date.now() - this.#current.at });
    this.#current = null;
  }
}
