// Fill yields the CPU to viewers (issue 8: viewers are never starved). Once a second, while
// downloads run, the engine looks at the box: when its CPU is nearly all busy (`busyCpu` of all
// cores) and viewers are being served, fill's rate is halved (down to `floor` of it, so a fill
// still ends); when either stops being true it doubles back, up to the manifest's limit. So fill
// takes only the CPU the viewers leave — on the bench box a rate-limited fill beside a saturating
// viewer load cost the viewers about half their throughput (bench/results/fill.md, part c).
//
// Why a back-off and not a lower OS priority: fill runs on the daemon's main thread, and on Linux
// a thread's nice value is inherited by the threads it creates — the serving workers the pool
// restarts and libuv's threadpool — while the daemon's user (no CAP_SYS_NICE) can never lower it
// again. A nice value would need the download's byte pump on a thread of its own.

import type { FillClock } from './clock.ts';
import { TokenBucket } from './token-bucket.ts';

export interface ServingLoad {
  /** busy share of all cores, 0..1 (the daemon's load meter) */
  cpu: number;
  /** open viewer connections */
  connections: number;
  /** bits per second served */
  egressBps: number;
}

export interface ViewerYieldOptions {
  /** the CPU share at or above which the box counts as contended */
  busyCpu?: number;
  /** the smallest share of its rate fill is cut to */
  floor?: number;
}

export class ViewerYield {
  #busyCpu: number;
  #floor: number;
  /** the share of its rate fill may use now, floor..1 */
  share = 1;

  constructor(o: ViewerYieldOptions = {}) {
    this.#busyCpu = o.busyCpu ?? 0.9;
    this.#floor = o.floor ?? 1 / 16;
  }

  /** One look at the box (about a second after the last); the share fill may use until the next. */
  sample(load: ServingLoad | null): number {
    const contended = load !== null && load.cpu >= this.#busyCpu && (load.connections > 0 || load.egressBps > 0);
    this.share = contended ? Math.max(this.#floor, this.share / 2) : Math.min(1, this.share * 2);
    return this.share;
  }
}

/** The shared bucket's rate: the manifest's limit times the share the viewers leave. */
export class FillRate {
  readonly bucket: TokenBucket;
  #clock: FillClock;
  #yield: ViewerYield;
  /** the manifest's limit, bytes per second (0 = unlimited) */
  #limit = 0;
  #fetched = 0;
  #at: number;

  constructor(clock: FillClock, o?: ViewerYieldOptions) {
    this.#clock = clock;
    this.#at = clock.now();
    this.#yield = new ViewerYield(o);
    this.bucket = new TokenBucket(0, clock);
  }

  /** the share of its rate fill may use now */
  get share(): number {
    return this.#yield.share;
  }

  /** A manifest's limit, bytes per second (0 = unlimited). */
  setLimit(bytesPerSec: number): void {
    this.#limit = bytesPerSec;
    this.#apply(this.#limit);
  }

  /**
   * Once per engine tick: `fetched` is every byte fetched so far; `load` the box's, or null when
   * nothing is downloading (no reason to hold back).
   */
  tick(fetched: number, load: ServingLoad | null): void {
    const now = this.#clock.now();
    const perSec = now > this.#at ? ((fetched - this.#fetched) * 1000) / (now - this.#at) : 0;
    this.#fetched = fetched;
    this.#at = now;
    const before = this.#yield.share;
    if (this.#yield.sample(load) === before) return;
    // unlimited: cut from what it runs at now (the bucket's rate once cut, else the bytes seen)
    this.#apply(this.#limit > 0 ? this.#limit : this.bucket.rate > 0 ? this.bucket.rate / before : Math.max(1e6, perSec));
  }

  #apply(base: number): void {
    const share = this.#yield.share;
    this.bucket.setRate(this.#limit === 0 && share === 1 ? 0 : base * share);
  }
}
