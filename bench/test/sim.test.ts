// The fleet simulation's accounting, at --small size: every byte attributed once, shares summing
// to 1, fills within rate × window, no store over capacity, steering's view equal to what the
// boxes hold, and the same result from the same seed. Plus the planner seam it uses.

import { describe, expect, it } from 'vitest';
import { planFill, SitePlanner } from '../../control/src/fill/planner.ts';
import type { ApplianceAssignment, PlanSite } from '../../control/src/fill/planner.ts';
import { seededRandom } from '../../protocol/index.ts';
import { makeCatalogue } from '../sim/catalogue.ts';
import { parseArgs, SMALL } from '../sim/options.ts';
import { resultJson } from '../sim/report.ts';
import { simulate } from '../sim/simulate.ts';
import type { SimResult } from '../sim/simulate.ts';
import { CAUSES } from '../sim/tally.ts';

const noSweep = { ...SMALL, sweepTB: [] };

function checkAccounting(r: SimResult): void {
  const t = r.total;
  expect(t.sessions).toBeGreaterThan(0);
  expect(t.embedded.sessions + t.ix.sessions + t.origin.sessions).toBe(t.sessions);
  expect(t.embedded.bytes + t.ix.bytes + t.origin.bytes).toBeCloseTo(t.bytes, -3);
  const s = t.shares();
  expect(s.embeddedShare + s.ixShare + s.originShare).toBeCloseTo(1, 12);
  // every byte off the embedded tier has exactly one cause, and went to IX or origin
  const missBytes = CAUSES.reduce((n, c) => n + t.misses[c].bytes, 0);
  expect(missBytes).toBeCloseTo(t.ix.bytes + t.origin.bytes, -3);
  for (const c of CAUSES) expect(t.misses[c].toIx + t.misses[c].toOrigin).toBeCloseTo(t.misses[c].bytes, -3);
  // the days add up to the total
  expect(r.days.reduce((n, d) => n + d.tally.bytes, 0)).toBeCloseTo(t.bytes, -3);
  expect(r.days.reduce((n, d) => n + d.tally.sessions, 0)).toBe(t.sessions);
  expect(r.invariants.bytesAttributedOnce).toBe(true);
  expect(r.invariants.missBytesEqualOffEmbedded).toBe(true);
  expect(r.invariants.maxWindowFillOfBound).toBeLessThanOrEqual(1 + 1e-9);
  expect(r.invariants.maxUsedOfCapacity).toBeLessThanOrEqual(1 + 1e-9);
  expect(r.invariants.usedMatchesHoldings).toBe(true);
  expect(r.invariants.steeringMatchesHoldings).toBe(true);
  expect(r.counts.steered).toBe(t.sessions);
}

describe('fleet simulation (--small)', () => {
  it('attributes every byte once, keeps fills and stores within bounds, and repeats itself from a seed', () => {
    const a = simulate(noSweep);
    checkAccounting(a);
    expect(a.nights.length).toBeGreaterThanOrEqual(noSweep.days);
    expect(a.nights.reduce((n, x) => n + x.fillBytes, 0)).toBeGreaterThan(0);
    expect(a.counts.healthReports).toBeGreaterThan(0);
    const strip = (r: SimResult) => ({ ...resultJson({ main: r, sweep: [], loadBefore: [], loadAfter: [], small: true }), cpuSeconds: null });
    expect(strip(simulate(noSweep))).toEqual(strip(a));
    expect(strip(simulate({ ...noSweep, seed: noSweep.seed + 1 }))).not.toEqual(strip(a));
  });

  it('holds fills to rate × window when the rate is what limits them', () => {
    // 20 Mb/s: 108 GB a 12-hour window, below what a night's plan asks of a 1 TB box
    const r = simulate({ ...noSweep, fillRateBps: 20e6, churnFraction: 0.5 });
    checkAccounting(r);
    expect(r.invariants.maxWindowFillOfBound).toBeGreaterThan(0.99);
    expect(r.nights.some((n) => n.plannedAddBytes > n.fillBytes)).toBe(true);
    expect(r.total.misses['not-filled'].sessions).toBeGreaterThan(0);
  });

  it('sends more bytes to the embedded tier with more storage per box', () => {
    const shares = [0.25, 2].map((tb) => simulate({ ...noSweep, storageTB: tb, days: 1 }).total.shares().embeddedShare);
    expect(shares[1]).toBeGreaterThan(shares[0]);
  });

  it('refuses bad options with a clear error', () => {
    expect(() => parseArgs(['--small', '--storageTB', 'x'])).toThrow(/storageTB/);
    expect(() => parseArgs(['--nope', '1'])).toThrow(/unknown option --nope/);
    expect(() => parseArgs(['--sweepTB', '4,-1'])).toThrow(/sweepTB/);
    expect(parseArgs(['--small', '--sweepTB', '1,2']).options.sweepTB).toEqual([1, 2]);
  });
});

describe('SitePlanner.setPopularity (the seam the simulation plans through)', () => {
  it('plans as a planner built with that popularity does', () => {
    const cat = makeCatalogue(200, seededRandom(3));
    const r = seededRandom(4);
    const views = () => Float64Array.from({ length: cat.fileIds.length }, () => (r() < 0.1 ? 0 : r() * 1000));
    const first = views(), second = views();
    const site: PlanSite = {
      siteId: 's', region: 'eu',
      appliances: [0, 1, 2].map((i) => ({ id: `a${i}`, ssdBytes: 2e11, hddBytes: 8e11, holds: new Set<string>(), heldFiles: Uint32Array.from({ length: 300 }, (_, k) => k * 7 + i) })),
    };
    const o = { headroom: 0.1, churnFraction: 0.2 };
    const reused = new SitePlanner(cat, new Map([['eu', first]]), o);
    reused.site(site, new Map());
    reused.setPopularity('eu', second);
    const got = new Map<string, ApplianceAssignment>();
    reused.site(site, got);
    // the seam's heldFiles against holds given as fileId strings
    const bySet: PlanSite = { ...site, appliances: site.appliances.map((a) => ({ ...a, heldFiles: undefined, holds: new Set(Array.from(a.heldFiles!, (f) => cat.fileIds[f])) })) };
    const want = planFill({ catalog: cat, popularity: new Map([['eu', second]]), sites: [bySet] }, o).appliances;
    for (const [id, a] of want) {
      expect([...got.get(id)!.files]).toEqual([...a.files]);
      expect(got.get(id)!.heldBytes).toBe(a.heldBytes);
    }
  });
});
