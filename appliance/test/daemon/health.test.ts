import { describe, expect, it } from 'vitest';
import { assessHealth, type HealthFacts } from '../../src/daemon/health.ts';

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
    const worst = assessHealth({ ...fine, workersAlive: 0, recentDiskErrors: 3 });
    expect(worst.status).toBe('failing');
    expect(worst.reasons).toEqual(['no serving worker is running', '3 disk read errors in the last minute']);
  });
});
