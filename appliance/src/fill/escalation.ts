// Which source a download tries next (Open Connect's escalation policy, per file): the file's
// peer sources for up to `peerMs` in all, then its tier (IX) sources for `tierMs`, then the
// origin — only if `allowOrigin` — for `originMs`. Within a level the sources are tried in the
// manifest's order; every source of a level gets at least one try even when the level's time is
// 0, and a source that failed is tried again after `retryMs` while the level has time left. A
// source that failed for good (bad bytes, refused credential; a 404 from the origin) is not tried
// again for this file. A level's clock starts with its first try; a transfer that is going well is
// never cut by it. Pure and clock-injected: the download calls next() after each failure.
//
// A 404 from a peer or tier source means "not yet" (control lists planned holders before they
// hold the file: protocol/src/fill-manifest.ts). Once every source of the level has been tried and
// one of them answered "not yet", next() says 'defer' instead of 'wait': the download gives its
// slot up and the engine comes back to the file later, with the same memory, so the level's time
// runs from the file's first try there — across downloads — and only then does it escalate. The
// deferral backs off (notYetRetryMs, doubling up to notYetRetryMaxMs) and never past the level's end.

import type { EscalationPolicy, FillLevel, FillSource } from '../../../protocol/index.ts';

export type NextStep =
  | { kind: 'try'; source: FillSource }
  | { kind: 'wait'; ms: number }
  /** a source of the level does not have the file yet: come back in `ms` instead of holding a download slot */
  | { kind: 'defer'; ms: number }
  | { kind: 'exhausted' };

/** What the escalation of one file remembers between its downloads while it is deferred. */
export interface EscalationMemory {
  /** when each level was first tried for the file: the level's time runs from there */
  startedAt: Partial<Record<FillLevel, number>>;
  /** deferrals so far, for the backoff */
  deferrals: number;
  /** sources that have answered "not yet" for the file */
  notYetFrom: Set<string>;
}

export function newEscalationMemory(): EscalationMemory {
  return { startedAt: {}, deferrals: 0, notYetFrom: new Set() };
}

export interface EscalationOptions {
  now: () => number;
  retryMs: number;
  originMs: number;
  /** the first deferral's wait; it doubles with each deferral of the file, up to notYetRetryMaxMs */
  notYetRetryMs?: number;
  notYetRetryMaxMs?: number;
  /** kept by the caller across the file's downloads (default: this download only) */
  memory?: EscalationMemory;
}

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
  #notYetMs: number;
  #notYetMaxMs: number;
  #memory: EscalationMemory;
  #idx = 0;
  #tried = new Set<string>();
  #failedAt = new Map<string, number>();
  #excluded = new Set<string>();
  #notYet = new Set<string>();

  /** `sources`: the file's sources, best first (unknown ids already dropped by the caller) */
  constructor(sources: readonly FillSource[], policy: EscalationPolicy, o: EscalationOptions) {
    this.#now = o.now;
    this.#retryMs = o.retryMs;
    this.#notYetMs = o.notYetRetryMs ?? o.retryMs;
    this.#notYetMaxMs = o.notYetRetryMaxMs ?? this.#notYetMs;
    this.#memory = o.memory ?? newEscalationMemory();
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
      const startedAt = (this.#memory.startedAt[l.level] ??= now);
      const untried = usable.find((s) => !this.#tried.has(s.id));
      if (untried) {
        this.#tried.add(untried.id);
        return { kind: 'try', source: untried };
      }
      const deadline = startedAt + l.budgetMs;
      if (usable.length === 0 || now >= deadline) {
        this.#idx++;
        continue;
      }
      if (usable.some((s) => this.#notYet.has(s.id))) {
        const backoff = Math.min(this.#notYetMs * 2 ** this.#memory.deferrals, this.#notYetMaxMs);
        this.#memory.deferrals++;
        return { kind: 'defer', ms: Math.min(backoff, deadline - now) };
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

  /** `sourceId` (a peer or tier source) does not hold the file yet (404). True the first time it says so for this file. */
  notYet(sourceId: string): boolean {
    this.#failedAt.set(sourceId, this.#now());
    this.#notYet.add(sourceId);
    const first = !this.#memory.notYetFrom.has(sourceId);
    this.#memory.notYetFrom.add(sourceId);
    return first;
  }

  /** Stop waiting for the sources that said "not yet" (a viewer is waiting): they are not tried again. */
  giveUpNotYet(): void {
    for (const id of this.#notYet) this.#excluded.add(id);
    this.#notYet.clear();
  }
}
