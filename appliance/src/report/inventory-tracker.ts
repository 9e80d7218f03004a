// Inventory in reports: the full set with a hash the first time and whenever control asks,
// otherwise a delta against the last set control acknowledged.

import { createHash } from 'node:crypto';
import type { InventoryReport } from '../../../protocol/index.ts';

export function inventoryHash(sortedFileIds: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of sortedFileIds) h.update(f).update('\n');
  return h.digest('hex');
}

export class InventoryTracker {
  #acked: { hash: string; files: Set<string> } | null = null;
  #forceFull = true;

  /** What to send for the current set; `ack` it once control accepted the report. */
  build(fileIds: readonly string[]): { report: InventoryReport; ack: () => void } {
    const sorted = [...fileIds].sort();
    const hash = inventoryHash(sorted);
    const ack = () => { this.#acked = { hash, files: new Set(sorted) }; this.#forceFull = false; };
    const base = this.#acked;
    if (this.#forceFull || !base) return { report: { kind: 'full', hash, files: sorted }, ack };
    const now = new Set(sorted);
    const added = sorted.filter((f) => !base.files.has(f));
    const removed = [...base.files].filter((f) => !now.has(f)).sort();
    return { report: { kind: 'delta', baseHash: base.hash, hash, added, removed }, ack };
  }

  /** Control lost our inventory: the next report carries the full set. */
  needFull(): void {
    this.#forceFull = true;
  }
}
