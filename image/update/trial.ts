// The trial boot of a new slot: is it healthy yet, has its deadline passed? Pure, so the rule is
// tested with an injected clock: healthy means the turn-up checks passed on this boot, the daemon
// answers its health check with ok or degraded (not failing), and control took our report. A
// daemon that answers but keeps saying "failing" for the grace period ends the trial early; a slow
// start (no answer yet) gets the whole deadline.

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
  if (f.now >= f.deadline) return { verdict: 'rollback', reason: `not healthy within the deadline: ${why}` };
  if (f.failingSince != null && f.failingGraceMs !== undefined && f.now - f.failingSince >= f.failingGraceMs) {
    return { verdict: 'rollback', reason: `not healthy: ${why} (for ${Math.round((f.now - f.failingSince) / 1000)} s)` };
  }
  return { verdict: 'wait', why };
}
