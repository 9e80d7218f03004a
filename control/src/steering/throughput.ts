// Delivered throughput per (client prefix, appliance), learned from players' heartbeats, for
// steering: a box that keeps starving a prefix ranks below a sibling that serves it well.
//
// The client prefix is the viewer's /24 (IPv4) or /48 (IPv6) by default: what one access network
// shares, and a key steering computes from the address in a few operations. Each cell keeps a
// decayed, time-weighted mean of the delivered kb/s its samples showed, and from it a coarse
// class that steering compares:
//   3  serves the prefix well (≥ goodKbps), or not judged yet (too little evidence)
//   2  ≥ goodKbps/2,  1  ≥ goodKbps/4,  0  below
// Unjudged cells rank as good so a new or recovered box is tried, and evidence only ever demotes.
//
// The class must not flap, since it moves whole prefixes of viewers: it changes only when the
// estimate is past the class boundary by MARGIN (hysteresis), and at most once per `dwellMs` per
// cell (minimum dwell), judged against the injected clock. Steering reads classes only; nothing
// here runs on the steering hot path but `cellsOf` and `classIn`.

import type { Address } from '../../../protocol/index.ts';

export interface ThroughputPolicy {
  /** the estimate halves its weight after this long without samples */
  halfLifeMs: number;
  /** a cell's class changes at most once per this long */
  dwellMs: number;
  /** delivered kb/s at or above which a box serves the prefix well */
  goodKbps: number;
  /** observed play time (decayed) a cell needs before it is judged at all */
  minEvidenceMs: number;
  v4Length: number;
  v6Length: number;
}

export const DEFAULT_THROUGHPUT_POLICY: ThroughputPolicy = {
  halfLifeMs: 30 * 60_000, dwellMs: 5 * 60_000, goodKbps: 3_000, minEvidenceMs: 60_000, v4Length: 24, v6Length: 48,
};

/** the best class, also that of cells without a judgement */
export const TOP_CLASS = 3;
/** how far past a class boundary the estimate must be before the class moves */
export const MARGIN = 0.2;

export interface Cell {
  slot: number;
  /** decayed Σ kb/s × ms and Σ ms, as of `at` */
  sum: number;
  weight: number;
  at: number;
  cls: number;
  changedAt: number;
}

export type ClassChange = 'promoted' | 'demoted' | 'held';

function classOf(kbps: number, good: number): number {
  return kbps >= good ? 3 : kbps >= good / 2 ? 2 : kbps >= good / 4 ? 1 : 0;
}

export class ThroughputBook {
  readonly policy: ThroughputPolicy;
  /** samples taken; class changes up and down; changes a dwell deferred */
  readonly stats = { samples: 0, promoted: 0, demoted: 0, held: 0 };
  #cells = new Map<number, Cell[]>();
  #words = new Uint32Array(4);

  constructor(policy: Partial<ThroughputPolicy> = {}) {
    this.policy = { ...DEFAULT_THROUGHPUT_POLICY, ...policy };
    const { v4Length, v6Length } = this.policy;
    if (!(v4Length >= 8 && v4Length <= 32) || !(v6Length >= 16 && v6Length <= 52)) throw new Error('throughput prefix lengths: IPv4 8–32, IPv6 16–52');
  }

  /** client prefixes with at least one cell */
  get size(): number { return this.#cells.size; }

  /**
   * The client prefix of an address as a number (exact in a double): IPv4 keys are negative,
   * IPv6 keys the top v6Length bits (≤ 52) of the address. `words` as protocol addressWords fills them.
   */
  keyOfWords(family: 4 | 6, words: Uint32Array): number {
    if (family === 4) return -1 - (this.policy.v4Length === 32 ? words[0] : words[0] >>> (32 - this.policy.v4Length));
    const l = this.policy.v6Length;
    if (l <= 32) return words[0] >>> (32 - l);
    return words[0] * 2 ** (l - 32) + (words[1] >>> (64 - l));
  }

  keyOf(a: Address): number {
    const w = this.#words;
    if (a.family === 4) w[0] = Number(a.value);
    else {
      w[0] = Number(a.value >> 96n);
      w[1] = Number((a.value >> 64n) & 0xffffffffn);
    }
    return this.keyOfWords(a.family, w);
  }

  /** The cells of one client prefix (hot path), or undefined. */
  cellsOf(key: number): Cell[] | undefined { return this.#cells.get(key); }

  /** The class of `slot` among a prefix's cells (hot path). */
  static classIn(cells: Cell[] | undefined, slot: number): number {
    if (cells === undefined) return TOP_CLASS;
    for (let i = 0; i < cells.length; i++) if (cells[i].slot === slot) return cells[i].cls;
    return TOP_CLASS;
  }

  /** The current estimate for one cell, for the operator (kb/s, evidence ms, class), or undefined. */
  estimate(key: number, slot: number, now: number): { kbps: number; evidenceMs: number; class: number } | undefined {
    const c = this.#cells.get(key)?.find((x) => x.slot === slot);
    if (!c) return undefined;
    return { kbps: c.weight > 0 ? c.sum / c.weight : 0, evidenceMs: c.weight * this.#decay(now - c.at), class: c.cls };
  }

  #decay(dt: number): number { return dt <= 0 ? 1 : 0.5 ** (dt / this.policy.halfLifeMs); }

  /**
   * One heartbeat's evidence: `kbps` delivered over `durationMs` by the appliance in `slot` to a
   * viewer in client prefix `key`. Returns what happened to the cell's class, if anything.
   */
  record(key: number, slot: number, kbps: number, durationMs: number, now: number): ClassChange | undefined {
    if (!(durationMs > 0) || !(kbps >= 0)) return undefined;
    let cells = this.#cells.get(key);
    if (cells === undefined) this.#cells.set(key, (cells = []));
    let c = cells.find((x) => x.slot === slot);
    if (c === undefined) cells.push((c = { slot, sum: 0, weight: 0, at: now, cls: TOP_CLASS, changedAt: -Infinity }));
    const f = this.#decay(now - c.at);
    c.sum = c.sum * f + kbps * durationMs;
    c.weight = c.weight * f + durationMs;
    c.at = Math.max(c.at, now);
    this.stats.samples++;
    if (c.weight < this.policy.minEvidenceMs) return undefined;
    return this.#judge(c, c.sum / c.weight, now);
  }

  #judge(c: Cell, est: number, now: number): ClassChange | undefined {
    const good = this.policy.goodKbps;
    const up = classOf(est / (1 + MARGIN), good), down = classOf(est / (1 - MARGIN), good);
    const next = up > c.cls ? up : down < c.cls ? down : c.cls;
    return this.#move(c, next, now);
  }

  #move(c: Cell, next: number, now: number): ClassChange | undefined {
    if (next === c.cls) return undefined;
    if (now - c.changedAt < this.policy.dwellMs) {
      this.stats.held++;
      return 'held';
    }
    const change = next > c.cls ? 'promoted' : 'demoted';
    this.stats[change]++;
    c.cls = next;
    c.changedAt = now;
    return change;
  }

  /**
   * Forget what faded: a cell whose decayed evidence fell below a quarter of minEvidenceMs goes
   * back to unjudged (once its dwell allows) and is dropped; so are empty prefixes. Run
   * periodically; costs one pass over the cells.
   */
  sweep(now: number): number {
    let dropped = 0;
    for (const [key, cells] of this.#cells) {
      for (let i = cells.length - 1; i >= 0; i--) {
        const c = cells[i];
        if (c.weight * this.#decay(now - c.at) >= this.policy.minEvidenceMs / 4) continue;
        if (c.cls !== TOP_CLASS && this.#move(c, TOP_CLASS, now) === 'held') continue;
        cells.splice(i, 1);
        dropped++;
      }
      if (cells.length === 0) this.#cells.delete(key);
    }
    return dropped;
  }
}
