// The served certificate judged for health: days left, the serving hostname. The checks before
// use (it parses, the key belongs to the leaf) are protocol's, shared with control's upload.

import { coversHost, type CertificateInfo } from '../../../../protocol/index.ts';

const DAY_MS = 86_400_000;

/** Whole days until the certificate expires (negative once it has), floored. */
export function daysLeft(info: CertificateInfo, now: number): number {
  return Math.floor((info.notAfter - now) / DAY_MS);
}

/**
 * What an operator must fix about the served certificate, or null: expired, not yet valid,
 * expiring within `warnDays`, or not naming the serving hostname.
 */
export function certificateProblem(info: CertificateInfo, hostname: string, now: number, warnDays: number): string | null {
  const problems: string[] = [];
  const left = daysLeft(info, now);
  if (now >= info.notAfter) problems.push(`expired on ${new Date(info.notAfter).toISOString()}`);
  else if (now < info.notBefore) problems.push(`not valid before ${new Date(info.notBefore).toISOString()}`);
  else if (left < warnDays) problems.push(`expires in ${left} days (on ${new Date(info.notAfter).toISOString()})`);
  if (!coversHost(info, hostname)) problems.push(`does not name the serving hostname ${hostname} (${info.altNames || info.subject})`);
  return problems.length === 0 ? null : `TLS certificate ${problems.join('; ')}`;
}
