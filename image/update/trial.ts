// The trial boot of a new slot: is it healthy yet, has its deadline passed? Pure, so the rule is
// tested with an injected clock: healthy means the turn-up checks passed on this boot, the daemon
// answers its health check with ok or degraded (not failing), and control took our report. A
// daemon that answers but keeps saying "failing" for the grace period ends the trial early; a slow
// start (no answer yet) gets the whole deadline, unless the daemon's unit shows it is not starting
// at all: failed (an exit status systemd does not restart on, such as a bad config) or restarted
// again and again — that ends the trial at once, with the daemon's last words as the reason.

export interface TrialFacts {
  now: number;
  deadline: number;
  turnupPassed: boolean | null;
  daemonHealth: { status: string; reasons: string[] } | null;
  /** control accepted the 'trying' status report from this boot */
  controlReached: boolean;
  /** since when the daemon has answered "failing" without a break (null: it is not failing) */
  failingSince?: number | null;
  failingGraceMs?: number;
  /** the daemon's unit when it is not running: failed, or its restarts this boot, and its last log line */
  daemonUnit?: DaemonUnit | null;
}

export interface DaemonUnit {
  /** systemd gave up on it (ActiveState=failed) */
  failed: boolean;
  /** automatic restarts this boot (NRestarts) */
  restarts: number;
  /** the main process's last exit status */
  exitStatus: number;
  /** the last line it wrote to its log this boot */
  lastLine: string;
}

/** Restarts after which a daemon that never answered is taken as not starting at all. */
export const MAX_DAEMON_RESTARTS = 3;

/** Why the daemon's unit shows it cannot start, or null while it may still be starting. */
export function daemonNotStarting(u: DaemonUnit | null | undefined): string | null {
  if (!u || (!u.failed && u.restarts < MAX_DAEMON_RESTARTS)) return null;
  const how = u.failed ? `exited at start with status ${u.exitStatus} and was not restarted` : `exited at start ${u.restarts + 1} times (last status ${u.exitStatus})`;
  return `the daemon ${how}${u.lastLine ? `: ${u.lastLine}` : ''}`;
}

export type TrialVerdict = { verdict: 'commit' } | { verdict: 'wait'; why: string } | { verdict: 'rollback'; reason: string };

export function whyNotHealthy(f: Omit<TrialFacts, 'now' | 'deadline'>): string | null {
  if (f.turnupPassed === null) return 'turn-up checks have not finished';
  if (!f.turnupPassed) return 'turn-up checks failed';
  if (!f.daemonHealth) return 'the daemon does not answer its health check';
  if (f.daemonHealth.status === 'failing') return `the daemon reports failing: ${f.daemonHealth.reasons.join('; ')}`;
  if (!f.controlReached) return 'control has not acknowledged a report from this slot';
  return null;
}

export function trialVerdict(f: TrialFacts): TrialVerdict {
  const why = whyNotHealthy(f);
  if (why === null) return { verdict: 'commit' };
  const dead = f.daemonHealth ? null : daemonNotStarting(f.daemonUnit);
  if (dead) return { verdict: 'rollback', reason: `not healthy: ${dead}` };
  if (f.now >= f.deadline) return { verdict: 'rollback', reason: `not healthy within the deadline: ${why}` };
  if (f.failingSince != null && f.failingGraceMs !== undefined && f.now - f.failingSince >= f.failingGraceMs) {
    return { verdict: 'rollback', reason: `not healthy: ${why} (for ${Math.round((f.now - f.failingSince) / 1000)} s)` };
  }
  return { verdict: 'wait', why };
}
