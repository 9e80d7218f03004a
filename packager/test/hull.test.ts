// The ladder decision on known points: the hull keeps the best resolution per bitrate, and rungs
// come down it in quality steps, never above the best measured quality.

import { describe, expect, it } from 'vitest';
import { convexHull, hullAt, pickRungs, type TrialPoint } from '../src/hull.ts';
import { candidateResolutions, sampleShots } from '../src/trials.ts';

const p = (height: number, kbps: number, quality: number): TrialPoint => ({
  width: Math.round((height * 16) / 9), height, bitrate: kbps * 1000, targetBitrate: kbps * 1000, quality,
});

describe('convex hull and rungs', () => {
  const points = [
    p(240, 100, 50), p(240, 200, 68), p(240, 400, 76), p(240, 800, 79),
    p(360, 100, 40), p(360, 200, 62), p(360, 400, 80), p(360, 800, 90),
    p(720, 400, 70), p(720, 800, 88), p(720, 1600, 96),
  ];

  it('keeps the upper-left envelope across resolutions', () => {
    const hull = convexHull(points);
    expect(hull.map((h) => `${h.height}@${h.bitrate / 1000}`)).toEqual(['240@100', '240@200', '360@400', '360@800', '720@1600']);
    for (let i = 2; i < hull.length; i++) {
      const s1 = (hull[i - 1].quality - hull[i - 2].quality) / (hull[i - 1].bitrate - hull[i - 2].bitrate);
      const s2 = (hull[i].quality - hull[i - 1].quality) / (hull[i].bitrate - hull[i - 1].bitrate);
      expect(s2).toBeLessThan(s1);
    }
  });

  it('interpolates bitrate and keeps the measured resolution above the target', () => {
    const hull = convexHull(points);
    const r = hullAt(hull, 85)!;
    expect(r.height).toBe(360);
    expect(r.bitrate).toBe(600_000);
    expect(hullAt(hull, 97)).toBeUndefined();
  });

  it('picks rungs by quality steps from the capped top', () => {
    const rungs = pickRungs(convexHull(points), { maxQuality: 95, qualityStep: 8, minQuality: 40, maxRungs: 6, minBitrate: 80_000 });
    expect(rungs.map((r) => Math.round(r.predictedQuality))).toEqual([95, 87, 79, 71, 63, 55]);
    expect(rungs[0].height).toBe(720);
    expect(rungs.every((r, i) => i === 0 || r.bitrate < rungs[i - 1].bitrate)).toBe(true);
  });

  it('candidate resolutions run from 240p to the source, never above, 4K only from 4K', () => {
    expect(candidateResolutions(1920, 1080).map((r) => r.height)).toEqual([240, 360, 480, 720, 1080]);
    expect(candidateResolutions(3840, 2160).map((r) => r.height)).toEqual([240, 360, 480, 720, 1080, 1440, 2160]);
    expect(candidateResolutions(640, 360).map((r) => `${r.width}x${r.height}`)).toEqual(['426x240', '640x360']);
    expect(candidateResolutions(1280, 544).map((r) => r.height)).toEqual([240, 360, 480, 544]);
  });

  it('samples shots evenly, or the whole of a short master', () => {
    expect(sampleShots(100, 4, 4)).toEqual([10.5, 35.5, 60.5, 85.5].map((startS) => ({ startS, durationS: 4 })));
    expect(sampleShots(6, 4, 4)).toEqual([{ startS: 0, durationS: 6 }]);
  });
});
