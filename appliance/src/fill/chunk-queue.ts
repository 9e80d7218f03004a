// The body of one source response as a queue of chunks between the socket (which pushes) and the
// download (which takes them in a tight loop, next()). Past `highWater` queued bytes the producer
// is told to pause; once the reader has taken the queue under `lowWater` it is told to resume, so
// a download held up by a slow disk or the rate limit holds the source up too (TCP backpressure)
// instead of buffering the file in memory. Shared by both ways of reading a source
// (response-stream.ts through undici, bulk-get.ts on a plain socket).

export interface Flow {
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

export class ChunkQueue {
  #chunks: Buffer[] = [];
  #head = 0;
  #queued = 0;
  #done = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #highWater: number;
  #lowWater: number;
  /** the producer's pause/resume (set once it exists) */
  flow: Flow | null = null;

  constructor(highWater: number, lowWater: number) {
    this.#highWater = highWater;
    this.#lowWater = lowWater;
  }

  get failed(): Error | null {
    return this.#error;
  }

  get ended(): boolean {
    return this.#done;
  }
  /** a chunk (or the end, or an error) is there: next() would not wait */
  get ready(): boolean {
    return this.#head < this.#chunks.length || this.#done || this.#error !== null;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#queued += chunk.byteLength;
    const f = this.flow;
    if (this.#queued > this.#highWater && f && !f.paused) f.pause();
    this.#notify();
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  /** The first error wins; later next() calls throw it. */
  fail(err: Error): void {
    this.#error ??= err;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Resolves once next() would answer at once (a chunk, the end or an error); takes nothing. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise<void>((r) => (this.#wake = r));
  }

  /** The next chunk, or null at the end of the body; throws the producer's error. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#head < this.#chunks.length) {
        const c = this.#chunks[this.#head++];
        this.#queued -= c.byteLength;
        if (this.#head > 256) {
          this.#chunks = this.#chunks.slice(this.#head);
          this.#head = 0;
        }
        const f = this.flow;
        if (f?.paused && this.#queued < this.#lowWater) f.resume();
        return c;
      }
      if (this.#done) return null;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
}
