import { describe, expect, it } from 'vitest';
import { assessHealth, controlAway, type HealthFacts } from '../../src/daemon/health.ts';

const fine: HealthFacts = {
  workersWanted: 2, workersAlive: 2, draining: false, controlDrain: false, tokenKeys: 1,
  recentDiskErrors: 0, storeFiles: 10, badRoots: [],
};

describe('assessHealth', () => {
  it('ok, degraded and failing with reasons', () => {
    expect(assessHealth(fine)).toEqual({ status: 'ok', reasons: [] });
    expect(assessHealth({ ...fine, workersAlive: 1 })).toEqual({ status: 'degraded', reasons: ['1 of 2 serving workers running'] });
    expect(assessHealth({ ...fine, controlDrain: true }).reasons).toEqual(['drain requested by control']);
    expect(assessHealth({ ...fine, badRoots: ['/x'] }).reasons).toEqual(['store root unusable: /x']);
    expect(assessHealth({ ...fine, failedDrives: ['/d1 (10 I/O errors)'] })).toEqual({ status: 'degraded', reasons: ['store drive failed: /d1 (10 I/O errors)'] });
    const worst = assessHealth({ ...fine, workersAlive: 0, recentDiskErrors: 3 });
    expect(worst.status).toBe('failing');
    expect(worst.reasons).toEqual(['no serving worker is running', '3 disk read errors in the last minute']);
  });
});

describe('control away (injected clock)', () => {
  const HOUR = 3_600_000;
  const t0 = 1_800_000_000_000;
  it.each([
    ['no control plane', null, t0, { pauseFill: false, refuseViewers: false }],
    ['answering', { reachable: true, lastContactAt: t0 }, t0 + 10 * HOUR, { pauseFill: false, refuseViewers: false }],
    ['just lost', { reachable: false, lastContactAt: t0 }, t0 + 1, { pauseFill: true, refuseViewers: false }],
    ['lost a minute short of the limit', { reachable: false, lastContactAt: t0 }, t0 + 6 * HOUR - 60_000, { pauseFill: true, refuseViewers: false }],
    ['lost for the limit', { reachable: false, lastContactAt: t0 }, t0 + 6 * HOUR, { pauseFill: true, refuseViewers: true }],
  ] as const)('%s', (_name, c, now, want) => {
    expect(controlAway(c, now, 6 * HOUR)).toEqual(want);
  });

  it('never refuses viewers with controlAwayMaxMs 0', () => {
    expect(controlAway({ reachable: false, lastContactAt: t0 }, t0 + 1000 * HOUR, 0)).toEqual({ pauseFill: true, refuseViewers: false });
  });

  it('says so in health: degraded while fill is paused, failing once viewers are refused', () => {
    const lost = { reachable: false, lastContactAt: t0 };
    expect(assessHealth({ ...fine, control: { ...lost, refusingViewers: false } })).toEqual({
      status: 'degraded', reasons: ['control unreachable since 2027-01-15T08:00:00.000Z: fill paused'],
    });
    expect(assessHealth({ ...fine, control: { ...lost, refusingViewers: true } })).toEqual({
      status: 'failing', reasons: ['control unreachable since 2027-01-15T08:00:00.000Z: viewers refused until it answers'],
    });
    expect(assessHealth({ ...fine, control: { reachable: true, lastContactAt: t0, refusingViewers: false } }).status).toBe('ok');
  });
});
