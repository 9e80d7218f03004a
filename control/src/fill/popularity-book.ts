// The running popularity totals: heartbeats add views in memory, merged by decay, and reach the
// store in batches (a few seconds later, before every plan, and at close), so a heartbeat costs
// no extra write. The store merges additively, so several control instances can share it.

import type { PopularityRow, Promotion, Repository } from '../store/repository.ts';
import type { PlanCatalog } from './ranking.ts';
import { decayed, raiseToPromotions } from './popularity.ts';
import type { FileViews } from './popularity.ts';

const FLUSH_DELAY_MS = 5_000;

export class PopularityBook {
  readonly halfLifeMs: number;
  #repo: Repository;
  #pending = new Map<string, PopularityRow>();
  #timer: NodeJS.Timeout | undefined;
  #onError: (err: unknown) => void;

  constructor(repo: Repository, halfLifeMs: number, onError: (err: unknown) => void) {
    this.#repo = repo;
    this.halfLifeMs = halfLifeMs;
    this.#onError = onError;
  }

  record(region: string, views: readonly FileViews[], at: number): void {
    for (const v of views) {
      const key = `${region}\u0000${v.fileId}`;
      const p = this.#pending.get(key);
      if (!p) {
        this.#pending.set(key, { region, fileId: v.fileId, views: v.views, at });
      } else if (at >= p.at) {
        p.views = decayed(p.views, p.at, at, this.halfLifeMs) + v.views;
        p.at = at;
      } else {
        p.views += decayed(v.views, at, p.at, this.halfLifeMs);
      }
    }
    if (this.#pending.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const rows = [...this.#pending.values()];
    this.#pending.clear();
    try {
      await this.#repo.addViews(rows, this.halfLifeMs);
    } catch (err) {
      // keep them for the next flush
      for (const r of rows) this.record(r.region, [r], r.at);
      this.#onError(err);
    }
  }

  /**
   * Views per region for the plan, aligned with catalog.fileIds: stored history decayed to `now`,
   * raised to a promotion's prediction where one applies, and -1 where the title may not be
   * played (its `regions` list excludes the region).
   */
  async regional(catalog: PlanCatalog, titleRegions: readonly string[][], regions: readonly string[], promotions: readonly Promotion[], now: number): Promise<Map<string, Float64Array>> {
    await this.flush();
    const stored = await this.#repo.listPopularity();
    const fileIndex = new Map<string, number>();
    for (let f = 0; f < catalog.fileIds.length; f++) fileIndex.set(catalog.fileIds[f], f);
    const out = new Map<string, Float64Array>();
    for (const region of regions) {
      const views = new Float64Array(catalog.fileIds.length);
      for (let t = 0; t < catalog.titleIds.length; t++) {
        const allowed = titleRegions[t];
        if (allowed.length > 0 && !allowed.includes(region)) views.fill(-1, catalog.titleStart[t], catalog.titleStart[t + 1]);
      }
      out.set(region, views);
    }
    for (const row of stored) {
      const views = out.get(row.region);
      const f = fileIndex.get(row.fileId);
      if (views && f !== undefined && views[f] >= 0) views[f] = decayed(row.views, row.at, now, this.halfLifeMs);
    }
    raiseToPromotions(catalog, out, regions, promotions, now, this.halfLifeMs);
    return out;
  }

  /** The region's most viewed files now (operator view). */
  async top(region: string, limit: number, now: number): Promise<FileViews[]> {
    await this.flush();
    return (await this.#repo.listPopularity())
      .filter((r) => r.region === region)
      .map((r) => ({ fileId: r.fileId, views: decayed(r.views, r.at, now, this.halfLifeMs) }))
      .sort((a, b) => b.views - a.views || (a.fileId < b.fileId ? -1 : 1))
      .slice(0, limit);
  }
}
