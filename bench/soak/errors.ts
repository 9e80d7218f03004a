// Errors the load generators saw, by the process that caused them, with the time of each (for
// errors per minute) and the first few messages.

export class ErrorLog {
  readonly times = new Map<string, number[]>();
  readonly examples: string[] = [];
  #t0: number;
  constructor(t0: number) { this.#t0 = t0; }

  add(proc: string, what: string): void {
    const list = this.times.get(proc) ?? [];
    list.push((performance.now() - this.#t0) / 1000);
    this.times.set(proc, list);
    if (this.examples.length < 20) this.examples.push(`${proc}: ${what}`.slice(0, 400));
  }

  count(proc: string): number {
    return this.times.get(proc)?.length ?? 0;
  }
}
