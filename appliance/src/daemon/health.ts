// Health of the box from what the main thread knows: ok, degraded (serving, but something needs
// an operator) or failing (this box should not be sent viewers). Pure: the daemon gathers facts.

import type { HealthStatus } from '../../../protocol/index.ts';
import type { TlsHealth } from '../http/tls/tls-keeper.ts';

export interface HealthFacts {
  workersWanted: number;
  workersAlive: number;
  draining: boolean;
  /** control's operator drain: still serving, but steering should send viewers elsewhere */
  controlDrain: boolean;
  tokenKeys: number;
  /** an operator revoked the box's control credential (control refuses its reports) */
  credentialRevoked?: boolean;
  /** disk read errors seen in the last minute, all workers */
  recentDiskErrors: number;
  storeFiles: number;
  /** store roots that are missing or unwritable, with why */
  badRoots: string[];
  /** drives the store took out of service after repeated I/O errors: `<root> (<why>)` */
  failedDrives?: string[];
  /** control's reachability (absent without a control plane); `refusingViewers`: away too long */
  control?: { reachable: boolean; lastContactAt: number; refusingViewers: boolean };
  /** why fill is stopped short (a full disk, no working source, no manifest); null when it is not */
  fillBlocked?: string | null;
  /** what is wrong with the served TLS certificate (expired, expiring, wrong host, none, unreadable) */
  tlsProblems?: string[];
}

export interface Health {
  status: HealthStatus;
  reasons: string[];
  /** the served certificate, when the box serves HTTPS (days left, source, fingerprint) */
  tls?: TlsHealth | null;
}

/**
 * What control's absence means at `now`: scheduled fill pauses while it does not answer (the plan
 * may be stale, and control cannot hear what was filled); viewers are refused once it has not
 * answered for `maxMs` (0 = never) — by then no token control issued can still be valid.
 */
export function controlAway(c: { reachable: boolean; lastContactAt: number } | null, now: number, maxMs: number): { pauseFill: boolean; refuseViewers: boolean } {
  const away = c !== null && !c.reachable;
  return { pauseFill: away, refuseViewers: away && maxMs > 0 && now - c.lastContactAt >= maxMs };
}

export function assessHealth(f: HealthFacts): Health {
  const failing: string[] = [];
  const degraded: string[] = [];
  if (f.workersAlive === 0) failing.push('no serving worker is running');
  else if (f.workersAlive < f.workersWanted) degraded.push(`${f.workersAlive} of ${f.workersWanted} serving workers running`);
  if (f.tokenKeys === 0) failing.push('no URL token keys configured: every file request is refused');
  if (f.credentialRevoked) failing.push('credential revoked: control refuses this box; enroll it again with a new enrollment token');
  const since = f.control && new Date(f.control.lastContactAt).toISOString();
  // viewers get 503 control_unreachable: steering (when control is back) and players must move on
  if (f.control?.refusingViewers) failing.push(`control unreachable since ${since}: viewers refused until it answers`);
  else if (f.control && !f.control.reachable) degraded.push(`control unreachable since ${since}: fill paused`);
  if (f.draining) degraded.push('draining');
  if (f.controlDrain) degraded.push('drain requested by control');
  if (f.recentDiskErrors > 0) degraded.push(`${f.recentDiskErrors} disk read errors in the last minute`);
  if (f.storeFiles === 0) degraded.push('the store holds no files');
  for (const r of f.badRoots) degraded.push(`store root unusable: ${r}`);
  // still serving from the other drives; the operator replaces this one
  for (const d of f.failedDrives ?? []) degraded.push(`store drive failed: ${d}`);
  // the box still serves what it holds; an operator should look
  if (f.fillBlocked) degraded.push(f.fillBlocked);
  // viewers on HTTPS are about to fail (or fail on some names); plain HTTP and peers still work
  for (const p of f.tlsProblems ?? []) degraded.push(p);
  const status: HealthStatus = failing.length > 0 ? 'failing' : degraded.length > 0 ? 'degraded' : 'ok';
  return { status, reasons: [...failing, ...degraded] };
}
