// The package bench's quality check (bench/package/compare.ts) on the 60 s bench master's own
// figures: today's ladder compared with itself must come out as the same encodes, 0 apart. Its
// 360p rung is planned at 205 kb/s, below the hull's 360p vertex at 217 kb/s, and the encoder
// delivered 224 kb/s: looked up by the delivered rate, today's ladder would "be" 720p there.

import { describe, expect, it } from 'vitest';
import { compare, comparisonRungs, todaysResolution, type Baseline, type MeasuredRung } from '../package/compare.ts';
import type { TrialPoint } from '../../packager/src/hull.ts';

const hull: TrialPoint[] = [
  [426, 240, 53759, 1.459, 51000], [426, 240, 91350, 22.75, 102000], [640, 360, 217258, 58.603, 230000],
  [1280, 720, 452307, 73.942, 461000], [1280, 720, 939774, 81.925, 922000], [1920, 1080, 2100618, 89.314, 2074000],
  [1920, 1080, 4205354, 93.882, 4147000], [1920, 1080, 8412822, 97.532, 8294000],
].map(([width, height, bitrate, quality, targetBitrate]) => ({ width, height, bitrate, quality, targetBitrate }));

// width, height, planned (hull) bitrate, target, delivered, QA VMAF
const rungs: MeasuredRung[] = [
  [1920, 1080, 5494107, 5416509, 5427578, 95.957], [1920, 1080, 1737079, 1715068, 1724011, 88.109],
  [1280, 720, 761164, 746768, 756018, 81.981], [1280, 720, 407225, 415052, 422509, 75.996],
  [1280, 720, 284636, 290106, 300882, 54.7], [640, 360, 204605, 216605, 224095, 63.418],
].map(([width, height, plannedBitrate, targetBitrate, bitrate, vmaf]) => ({ width, height, plannedBitrate, targetBitrate, bitrate, vmaf }));

const baseline: Baseline = { commit: 'today', hull, rungs };

describe('package bench quality check', () => {
  it('looks up today\'s resolution at the rung\'s planned bitrate, not the delivered one', () => {
    expect(todaysResolution(hull, 224095).height).toBe(720);
    const rows = compare(baseline, rungs, rungs).rows;
    expect(rows.map((r) => r.todayResolution)).toEqual(['1080p', '1080p', '720p', '720p', '720p', '360p']);
    expect(rows.every((r) => r.sameEncode && r.diff === 0)).toBe(true);
    // only today's own rungs are re-encoded: nothing of another resolution
    expect(comparisonRungs(baseline, rungs).map((r) => r.height)).toEqual([1080, 1080, 720, 720, 720, 360]);
  });

  it('a rung planned where today\'s hull uses another resolution is compared with that encode', () => {
    const fresh = [{ ...rungs[5], plannedBitrate: 230000, targetBitrate: 240000 }];
    expect(comparisonRungs(baseline, fresh).filter((r) => r.targetBitrate === 240000).map((r) => r.height)).toEqual([720]);
    const encoded = [...rungs, { width: 1280, height: 720, targetBitrate: 240000, bitrate: 245000, vmaf: 63.0 }];
    const c = compare(baseline, fresh, encoded);
    expect(c.rows[0]).toMatchObject({ todayResolution: '720p', sameEncode: false, diff: 0.42 });
    expect(c.withinOnePoint).toBe(true);
  });

  it('a baseline without planned bitrates falls back to the delivered rate', () => {
    const old = rungs.map(({ plannedBitrate: _, ...r }) => r);
    expect(compare({ ...baseline, rungs: old }, old.slice(0, 5), old).withinOnePoint).toBe(true);
  });
});
