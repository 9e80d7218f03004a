// The RAM tier: whole files held once per box in SharedArrayBuffers, which the store posts to
// every worker as zero-copy views. lru-cache is the byte-bounded container (maxSize = budget,
// its dispose hook tells the workers a file left), but who enters and who leaves is decided by
// score, not recency: a file is admitted only at or above the threshold, and room is made by
// dropping the lowest-scored resident files that score below the newcomer (by the promotion
// margin) and are not being read.
// Room is always made before set(), so lru-cache's own recency eviction never runs.

import { LRUCache } from 'lru-cache';

export interface RamHooks {
  onAdd(fileId: string, bytes: SharedArrayBuffer): void;
  onDrop(fileId: string): void;
  /** current score of a resident file */
  scoreOf(fileId: string): number;
  /** true while any worker is reading the file */
  pinned(fileId: string): boolean;
}

export class RamTier {
  readonly budget: number;
  readonly maxFileBytes: number;
  readonly threshold: number;
  /** lead a newcomer needs over a resident to displace it (stops two files trading places) */
  readonly margin: number;
  private readonly cache: LRUCache<string, SharedArrayBuffer> | undefined;
  private readonly hooks: RamHooks;

  constructor(budget: number, maxFileBytes: number, threshold: number, margin: number, hooks: RamHooks) {
    this.budget = Math.max(0, Math.floor(budget));
    this.maxFileBytes = Math.min(maxFileBytes, this.budget);
    this.threshold = threshold;
    this.margin = margin;
    this.hooks = hooks;
    this.cache =
      this.budget > 0
        ? new LRUCache<string, SharedArrayBuffer>({
            maxSize: this.budget,
            sizeCalculation: (b) => Math.max(1, b.byteLength),
            dispose: (_value, fileId) => hooks.onDrop(fileId),
          })
        : undefined;
  }

  get used(): number {
    return this.cache?.calculatedSize ?? 0;
  }

  get count(): number {
    return this.cache?.size ?? 0;
  }

  has(fileId: string): boolean {
    return this.cache?.has(fileId) ?? false;
  }

  /** the bytes of a resident file (peek: reading does not count as recency) */
  peek(fileId: string): SharedArrayBuffer | undefined {
    return this.cache?.peek(fileId);
  }

  entries(): Array<[string, SharedArrayBuffer]> {
    return this.cache ? [...this.cache.entries()] : [];
  }

  /** May a file of this size and score enter at all? */
  eligible(bytes: number, score: number): boolean {
    return this.cache !== undefined && bytes <= this.maxFileBytes && score >= this.threshold;
  }

  /**
   * The resident files to drop to fit `bytes` for a newcomer scoring `score`: lowest score first,
   * never a pinned file, never one within `margin` of the newcomer. undefined if it cannot fit.
   */
  planRoom(bytes: number, score: number): string[] | undefined {
    if (!this.cache) return undefined;
    let free = this.budget - this.used;
    if (free >= bytes) return [];
    const residents = [...this.cache.entries()]
      .map(([fileId, b]) => ({ fileId, size: Math.max(1, b.byteLength), score: this.hooks.scoreOf(fileId) }))
      .filter((r) => r.score + this.margin < score && !this.hooks.pinned(r.fileId))
      .sort((a, b) => a.score - b.score);
    const victims: string[] = [];
    for (const r of residents) {
      if (free >= bytes) break;
      victims.push(r.fileId);
      free += r.size;
    }
    return free >= bytes ? victims : undefined;
  }

  /** Put a loaded file in, dropping `victims` first (from planRoom, re-checked by the caller). */
  add(fileId: string, bytes: SharedArrayBuffer, victims: string[]): void {
    if (!this.cache) return;
    for (const v of victims) this.cache.delete(v);
    this.cache.set(fileId, bytes);
    this.hooks.onAdd(fileId, bytes);
  }

  drop(fileId: string): boolean {
    return this.cache?.delete(fileId) ?? false;
  }

  clear(): void {
    this.cache?.clear();
  }
}
