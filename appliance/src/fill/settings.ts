// Fill settings: the daemon's `fill` object (EDGEBOX_FILL as JSON). What to fetch, when and how
// fast comes from control's fill manifest; these are the box's own mechanics.

import { z } from 'zod';

const ms = z.number().int().positive();

export const FillSettings = z.object({
  /** false: never fill, and misses stay 404 (daemon.fill is null) */
  enabled: z.boolean().default(true),
  /**
   * downloads at once per store root, by the root's tier; "auto" for an SSD-tier root: by the
   * drive the hardware probe found under it (8 on NVMe, else 4: disk-downloads.ts)
   */
  downloadsPerSsd: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
  downloadsPerHdd: z.number().int().min(1).max(64).default(2),
  /** refetch the manifest this often even when no report reply says it changed */
  manifestRefreshMs: ms.default(300_000),
  /** timeout of the manifest request */
  requestTimeoutMs: ms.default(10_000),
  /** a source that sends no headers, or no body bytes, for this long has timed out */
  sourceTimeoutMs: ms.default(15_000),
  /** wait before trying a source that failed again, within its level's escalation time */
  sourceRetryMs: ms.default(1_000),
  /** a file whose peer or tier sources do not have it yet (404) is tried again after this, doubling with each deferral */
  notYetRetryMs: ms.default(2_000),
  /** the longest wait between two tries of a deferred file (never past the end of its level's escalation time) */
  notYetRetryMaxMs: ms.default(30_000),
  /** how long the origin is tried for one file before its download is given up */
  originMs: z.number().int().min(0).default(60_000),
  /** a file whose download was given up, or a fill stopped by a full disk, is tried again after this */
  retryMs: ms.default(300_000),
  /** how often the scheduler looks at the window and the missing files */
  tickMs: ms.default(1_000),
});
export type FillSettings = z.infer<typeof FillSettings>;
