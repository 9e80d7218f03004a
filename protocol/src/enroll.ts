// Appliance enrollment (appliance → control), and how every later appliance call authenticates.
//
//   POST /v1/appliances/enroll        body EnrollRequest, no Authorization header
//     → 201 EnrollReply               the enrollment token is one-time: a second use is refused
//     → 401 unknown/expired token, 403 token already used or for another site, 400 bad body
//   POST /v1/appliances/:applianceId/report
//     Authorization: Bearer <credential>   body ApplianceReport → 200 ReportReply
//     → 401 missing/unknown credential, 403 credential of another appliance
//
// A report that is replayed or out of order (same bootId and seq not above the last accepted one,
// or a bootId seen before the current one) is ignored: 200 with `{ ok: false, ignored: true }`.

import { z } from 'zod';

export const EnrollRequest = z.object({
  enrollmentToken: z.string().min(16).max(200),
  /** operator-facing name, e.g. "lon-isp1-01" */
  name: z.string().min(1).max(100),
  /** optional: must match the site the enrollment token was issued for */
  siteId: z.string().min(1).max(64).optional(),
  /** where viewers reach this appliance: scheme://host[:port], no path */
  publicUrl: z.url().max(300),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollReply = z.object({
  applianceId: z.string(),
  siteId: z.string(),
  /** secret for `Authorization: Bearer <credential>` on every later call; shown once */
  credential: z.string(),
  /** how often control expects a report; three missed intervals make the appliance stale */
  reportIntervalMs: z.number().int().positive(),
});
export type EnrollReply = z.infer<typeof EnrollReply>;

export function applianceReportPath(applianceId: string): string {
  return `/v1/appliances/${encodeURIComponent(applianceId)}/report`;
}
