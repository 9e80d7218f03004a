// Sources that delivered a bad copy of a file (wrong size or sha256, as FillReport.badSources
// says), left out of that file's sources in every manifest for a while. A damaged copy is bad
// for everyone, so one report is enough. Transient failures (timeouts, HTTP errors, unreachable)
// are not remembered here: the appliance escalates past them itself, and a dead peer goes stale.
// Reports repeat their recent list, so an entry is dated from the first report that carried it.

import type { FillReport } from '../../../protocol/index.ts';

const COPY_FAILURES = new Set(['sha256_mismatch', 'size_mismatch']);

export interface BadSource { fileId: string; sourceId: string; reason: string; reportedBy: string; at: number; until: number }

export class BadSources {
  /** bumped per region when an entry is added there, so that region's manifests rebuild */
  #generations = new Map<string, number>();
  #entries = new Map<string, Map<string, BadSource>>();
  #ttlMs: number;
  #expiries = 0;
  #nextExpiry = Infinity;

  constructor(ttlMs: number) { this.#ttlMs = ttlMs; }

  /** changes when an entry was added in the region or any entry expired */
  stamp(region: string, now: number): string {
    if (now >= this.#nextExpiry) {
      this.#prune(now);
      this.#expiries++;
    }
    return `${this.#expiries}.${this.#generations.get(region) ?? 0}`;
  }

  ingest(reportedBy: string, region: string, bad: FillReport['badSources'], now: number): void {
    if (this.#ttlMs === 0) return;
    let added = false;
    for (const b of bad) {
      if (!COPY_FAILURES.has(b.reason)) continue;
      let bySource = this.#entries.get(b.fileId);
      const known = bySource?.get(b.sourceId);
      if (known && known.at === b.at && known.reportedBy === reportedBy) continue;
      if (!bySource) this.#entries.set(b.fileId, (bySource = new Map()));
      bySource.set(b.sourceId, { fileId: b.fileId, sourceId: b.sourceId, reason: b.reason, reportedBy, at: b.at, until: now + this.#ttlMs });
      added = true;
    }
    if (added) {
      this.#generations.set(region, (this.#generations.get(region) ?? 0) + 1);
      this.#prune(now);
    }
  }

  isBad(fileId: string, sourceId: string, now: number): boolean {
    const e = this.#entries.get(fileId)?.get(sourceId);
    return e !== undefined && e.until > now;
  }

  /** any entries for this file at all (a cheap pre-check per file) */
  has(fileId: string): boolean { return this.#entries.has(fileId); }

  list(now: number): BadSource[] {
    const out: BadSource[] = [];
    for (const bySource of this.#entries.values()) for (const e of bySource.values()) if (e.until > now) out.push(e);
    return out;
  }

  #prune(now: number): void {
    this.#nextExpiry = Infinity;
    for (const [fileId, bySource] of this.#entries) {
      for (const [sourceId, e] of bySource) {
        if (e.until <= now) bySource.delete(sourceId);
        else if (e.until < this.#nextExpiry) this.#nextExpiry = e.until;
      }
      if (bySource.size === 0) this.#entries.delete(fileId);
    }
  }
}
