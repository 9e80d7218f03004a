// Reporter settings, for one `report` object in the appliance daemon's config (EDGEBOX_REPORT as
// JSON). The control URL and the state dir are the daemon's own `controlUrl` and `stateDir`.

import { z } from 'zod';

export const ReporterSettings = z.object({
  /** one-time token from control (POST /v1/enrollment-tokens); unused once a credential is stored */
  enrollmentToken: z.string().default(''),
  /** operator-facing name sent at enrollment */
  name: z.string().min(1).max(100).default('edgebox'),
  /** where viewers reach this box, scheme://host[:port] */
  publicUrl: z.url().default('http://127.0.0.1:8080'),
  siteId: z.string().min(1).max(64).optional(),
  /** 0 = the interval control gave at enrollment */
  reportIntervalMs: z.number().int().min(0).default(0),
  requestTimeoutMs: z.number().int().positive().default(5_000),
  /** first retry delay against an unreachable control; doubles up to backoffMaxMs */
  backoffMinMs: z.number().int().positive().default(1_000),
  backoffMaxMs: z.number().int().positive().default(60_000),
  /** prefixes go as deltas; the full set is sent again this often anyway (0 = only when needed) */
  prefixFullSyncMs: z.number().int().min(0).default(3_600_000),
});
export type ReporterSettings = z.infer<typeof ReporterSettings>;
