// Which source a download tries next (Open Connect's escalation policy, per file): the file's
// peer sources for up to `peerMs` in all, then its tier (IX) sources for `tierMs`, then the
// origin — only if `allowOrigin` — for `originMs`. Within a level the sources are tried in the
// manifest's order; every source of a level gets at least one try even when the level's time is
// 0, and a source that failed is tried again after `retryMs` while the level has time left. A
// source that failed for good (bad bytes, 404, refused credential) is not tried again for this
// file. A level's clock starts with its first try; a transfer that is going well is never cut by
// it. Pure and clock-injected: the download calls next() after each failure.

import type { EscalationPolicy, FillLevel, FillSource } from '../../../protocol/index.ts';

export type NextStep =
  | { kind: 'try'; source: FillSource }
  | { kind: 'wait'; ms: number }
  | { kind: 'exhausted' };

interface Level {
  level: FillLevel;
  sources: FillSource[];
  budgetMs: number;
}

export const LEVELS: readonly FillLevel[] = ['peer', 'tier', 'origin'];

export class Escalation {
  #levels: Level[];
  #now: () => number;
  #retryMs: number;
  #idx = 0;
  #startedAt: number | null = null;
  #tried = new Set<string>();
  #failedAt = new Map<string, number>();
  #excluded = new Set<string>();

  /** `sources`: the file's sources, best first (unknown ids already dropped by the caller) */
  constructor(sources: readonly FillSource[], policy: EscalationPolicy, o: { now: () => number; retryMs: number; originMs: number }) {
    this.#now = o.now;
    this.#retryMs = o.retryMs;
    const budget: Record<FillLevel, number> = { peer: policy.peerMs, tier: policy.tierMs, origin: o.originMs };
    this.#levels = LEVELS
      .filter((l) => l !== 'origin' || policy.allowOrigin)
      .map((level) => ({ level, sources: sources.filter((s) => s.level === level), budgetMs: budget[level] }))
      .filter((l) => l.sources.length > 0);
  }

  /** the level being tried; null once every level is spent */
  get level(): FillLevel | null {
    return this.#levels[this.#idx]?.level ?? null;
  }

  next(): NextStep {
    while (this.#idx < this.#levels.length) {
      const l = this.#levels[this.#idx];
      const usable = l.sources.filter((s) => !this.#excluded.has(s.id));
      const now = this.#now();
      this.#startedAt ??= now;
      const untried = usable.find((s) => !this.#tried.has(s.id));
      if (untried) {
        this.#tried.add(untried.id);
        return { kind: 'try', source: untried };
      }
      const deadline = this.#startedAt + l.budgetMs;
      if (usable.length === 0 || now >= deadline) {
        this.#idx++;
        this.#startedAt = null;
        continue;
      }
      // every usable source has been tried: the one that failed longest ago, once it may be retried
      let best = usable[0];
      for (const s of usable) if ((this.#failedAt.get(s.id) ?? 0) < (this.#failedAt.get(best.id) ?? 0)) best = s;
      const readyAt = (this.#failedAt.get(best.id) ?? 0) + this.#retryMs;
      if (readyAt <= now) return { kind: 'try', source: best };
      return { kind: 'wait', ms: Math.min(readyAt, deadline) - now };
    }
    return { kind: 'exhausted' };
  }

  /** The last try of `sourceId` failed; `permanent`: never try it again for this file. */
  failed(sourceId: string, permanent: boolean): void {
    this.#failedAt.set(sourceId, this.#now());
    if (permanent) this.#excluded.add(sourceId);
  }
}
