// The fill planner as a pure function: copies by popularity, whole titles, capacity per tier with
// headroom, the hottest files on SSD, the churn cap, spare capacity, and how little moves when an
// appliance joins or leaves (rendezvous hashing).

import { describe, expect, it } from 'vitest';
import { planFill, SitePlanner, TIER_HDD, TIER_SSD } from '../src/fill/planner.ts';
import type { ApplianceAssignment, FillPlan, PlanAppliance, PlanCatalog, PlanOptions } from '../src/fill/planner.ts';

/** `titles` titles of `filesPer` files each; file k of title t is `t<t>.f<k>`, `size(t, k)` bytes. */
function catalog(titles: number, filesPer: number, size: (t: number, k: number) => number = () => 100): PlanCatalog {
  const titleIds: string[] = [], fileIds: string[] = [], bytes: number[] = [];
  const titleStart = new Uint32Array(titles + 1);
  for (let t = 0; t < titles; t++) {
    titleStart[t] = fileIds.length;
    titleIds.push(`t${String(t).padStart(5, '0')}`);
    for (let k = 0; k < filesPer; k++) {
      fileIds.push(`t${String(t).padStart(5, '0')}.f${k}`);
      bytes.push(size(t, k));
    }
  }
  titleStart[titles] = fileIds.length;
  return { titleIds, titleStart, fileIds, fileBytes: Float64Array.from(bytes) };
}

/** Zipf-like views: title t's files get 1000 / (t + 1) (file k of a title a little less than file 0). */
function zipf(cat: PlanCatalog): Float64Array {
  const v = new Float64Array(cat.fileIds.length);
  for (let t = 0; t < cat.titleIds.length; t++) {
    for (let f = cat.titleStart[t]; f < cat.titleStart[t + 1]; f++) v[f] = 1000 / (t + 1) - (f - cat.titleStart[t]) * 0.001;
  }
  return v;
}

const box = (id: string, ssd: number, hdd: number, holds: string[] = []): PlanAppliance => ({ id, ssdBytes: ssd, hddBytes: hdd, holds: new Set(holds) });
const OPEN: PlanOptions = { headroom: 0, churnFraction: 1 };

function plan(cat: PlanCatalog, apps: PlanAppliance[], o: PlanOptions = OPEN, views = zipf(cat)): FillPlan {
  return planFill({ catalog: cat, popularity: new Map([['eu', views]]), sites: [{ siteId: 's1', region: 'eu', appliances: apps }] }, o);
}

/** applianceId → fileIds it is planned to hold, in manifest order */
function files(p: FillPlan): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of p.appliances.values()) out[a.applianceId] = [...a.files].map((f) => p.catalog.fileIds[f]);
  return out;
}

function copiesOf(p: FillPlan, fileId: string): number {
  return Object.values(files(p)).filter((l) => l.includes(fileId)).length;
}

function placements(p: FillPlan): Set<string> {
  const s = new Set<string>();
  for (const a of p.appliances.values()) for (const f of a.files) s.add(`${a.applianceId}|${p.catalog.fileIds[f]}`);
  return s;
}

describe('fill planner', () => {
  it('copies grow with popularity: the hottest title on every appliance, the tail on one', () => {
    const cat = catalog(40, 2);
    // room for about two copies of the catalogue over the whole site, so spare capacity is small
    const p = plan(cat, ['a', 'b', 'c', 'd'].map((id) => box(id, 0, 40 * 2 * 100 * 0.5)));
    expect(copiesOf(p, 't00000.f0')).toBe(4);
    expect(copiesOf(p, 't00001.f0')).toBe(2); // round(4 × 500/1000)
    expect(copiesOf(p, 't00039.f1')).toBeGreaterThanOrEqual(1);
    const counts = cat.titleIds.map((t) => copiesOf(p, `${t}.f0`));
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[0]);
  });

  it('places titles whole: every appliance holding one file of a title holds all of them', () => {
    const cat = catalog(200, 5, (t, k) => 100 + ((t * 31 + k * 17) % 90));
    const p = plan(cat, ['a', 'b', 'c'].map((id) => box(id, 5_000, 20_000)));
    for (const list of Object.values(files(p))) {
      const set = new Set(list);
      for (const f of list) for (let k = 0; k < 5; k++) expect(set.has(`${f.split('.')[0]}.f${k}`)).toBe(true);
    }
  });

  const tierCases: Array<[string, number, number, number, number]> = [
    // name, ssd bytes, hdd bytes, headroom, files expected on ssd (100 B each, ranked)
    ['SSD and HDD: the hottest on SSD', 1000, 5000, 0, 10],
    ['headroom leaves 20% of each tier free', 1000, 5000, 0.2, 8],
    ['flash only', 3000, 0, 0, 30],
    ['HDD only', 0, 3000, 0, 0],
  ];
  it.each(tierCases)('tiers: %s', (_name, ssd, hdd, headroom, onSsd) => {
    const cat = catalog(100, 1);
    const p = plan(cat, [box('a', ssd, hdd)], { headroom, churnFraction: 1 });
    const a = p.appliances.get('a')!;
    expect(a.plannedBytes).toBeLessThanOrEqual((ssd + hdd) * (1 - headroom));
    expect([...a.tiers].filter((t) => t === TIER_SSD).length).toBe(onSsd);
    // SSD files are exactly the appliance's top-ranked ones
    expect([...a.tiers.slice(0, onSsd)].every((t) => t === TIER_SSD)).toBe(true);
    expect([...a.tiers.slice(onSsd)].every((t) => t === TIER_HDD)).toBe(true);
    // and its files come most popular first
    expect(files(p).a.slice(0, 3)).toEqual(['t00000.f0', 't00001.f0', 't00002.f0'].slice(0, Math.min(3, files(p).a.length)));
  });

  it('more than fits: the most popular titles are placed, the rest counted unplaced', () => {
    const cat = catalog(100, 2);
    const p = plan(cat, [box('a', 0, 2000), box('b', 0, 2000)]);
    expect(p.stats.titlesPlaced + p.stats.titlesUnplaced).toBe(100);
    expect(p.stats.titlesUnplaced).toBeGreaterThan(0);
    expect(copiesOf(p, 't00000.f0')).toBe(2);
    expect(copiesOf(p, 't00099.f0')).toBe(0);
    for (const a of p.appliances.values()) expect(a.plannedBytes).toBeLessThanOrEqual(2000);
  });

  it('a title not available in the region is not placed there', () => {
    const cat = catalog(3, 2);
    const views = zipf(cat);
    views.fill(-1, cat.titleStart[1], cat.titleStart[2]);
    const p = plan(cat, [box('a', 0, 10_000)], OPEN, views);
    expect(files(p).a.some((f) => f.startsWith('t00001'))).toBe(false);
    expect(files(p).a).toContain('t00002.f0');
    expect(p.regions.get('eu')!.rank[cat.titleStart[1]]).toBe(-1);
  });

  it('spare capacity becomes extra copies, level by level in rank order', () => {
    const cat = catalog(10, 1);
    // 3 boxes of 10 files each: 30 slots for 10 titles → every title on all three
    const full = plan(cat, ['a', 'b', 'c'].map((id) => box(id, 0, 1000)));
    expect(cat.titleIds.map((t) => copiesOf(full, `${t}.f0`))).toEqual(Array(10).fill(3));
    // 15 slots: every title gets one copy, the extra 5 go to the most popular
    const some = plan(cat, ['a', 'b', 'c'].map((id) => box(id, 0, 500)));
    const counts = cat.titleIds.map((t) => copiesOf(some, `${t}.f0`));
    expect(counts.every((n) => n >= 1)).toBe(true);
    expect(counts.reduce((x, y) => x + y)).toBe(15);
    expect(counts.slice(0, 3)).toEqual([3, 2, 2]);
  });

  it('the churn cap: new bytes per appliance stay under its share of the store, held files are kept', () => {
    const cat = catalog(100, 1);
    const all = cat.fileIds;
    // a holds the 50 least popular titles; the plan would rather it held the 50 most popular
    const held = all.slice(50);
    const capped = plan(cat, [box('a', 0, 5000, held)], { headroom: 0, churnFraction: 0.1 });
    const a = capped.appliances.get('a')!;
    expect(a.addBytes).toBeLessThanOrEqual(500);
    expect(a.addBytes).toBe(500);
    expect(a.churnBudgetBytes).toBe(500);
    // the 5 newcomers are the 5 most popular; the room left is kept by what it holds, hottest first
    expect(files(capped).a.slice(0, 5)).toEqual(all.slice(0, 5));
    expect(files(capped).a.filter((f) => held.includes(f))).toHaveLength(45);
    const open = plan(cat, [box('a', 0, 5000, held)]);
    expect(files(open).a).toEqual(all.slice(0, 50));
  });

  it('a copy the churn cap refuses stays on the appliance that holds it', () => {
    const cat = catalog(20, 1);
    // find where rendezvous puts each title with nothing held, then pretend each sits on another box only
    const fresh = files(plan(cat, ['a', 'b', 'c'].map((id) => box(id, 0, 1000))));
    const home = (f: string) => Object.keys(fresh).find((id) => fresh[id].includes(f))!;
    const moved: Record<string, string[]> = { a: [], b: [], c: [] };
    for (const f of cat.fileIds) moved[{ a: 'b', b: 'c', c: 'a' }[home(f)]!].push(f);
    const p = plan(cat, ['a', 'b', 'c'].map((id) => box(id, 0, 2000, moved[id])), { headroom: 0, churnFraction: 0.0001 });
    for (const id of ['a', 'b', 'c']) {
      // a budget smaller than one title lets exactly one title in, so filling always progresses
      expect(p.appliances.get(id)!.addBytes).toBe(100);
      expect(files(p)[id]).toEqual(expect.arrayContaining(moved[id]));
      expect(files(p)[id]).toHaveLength(moved[id].length + 1);
    }
  });

  it('is deterministic and an IX site is planned like any other', () => {
    const cat = catalog(50, 2);
    const input = {
      catalog: cat, popularity: new Map([['eu', zipf(cat)]]),
      sites: [
        { siteId: 'ix-eu', region: 'eu', appliances: [box('ix1', 0, 20_000)] },
        { siteId: 's1', region: 'eu', appliances: [box('a', 0, 3000), box('b', 0, 3000)] },
      ],
    };
    const one = planFill(input, OPEN), two = planFill(input, OPEN);
    expect(files(one)).toEqual(files(two));
    expect(files(one).ix1).toHaveLength(100);
    expect(one.stats).toMatchObject({ sites: 2, appliances: 3 });
    // a simulation can plan one site at a time and drop each site's result: same answer
    const planner = new SitePlanner(cat, input.popularity, OPEN);
    for (const site of input.sites) {
      const out = new Map<string, ApplianceAssignment>();
      planner.site(site, out);
      for (const [id, a] of out) expect([...a.files]).toEqual([...one.appliances.get(id)!.files]);
    }
  });
});

describe('placement moves about its share when an appliance joins or leaves', () => {
  const cases: Array<[string, number, number]> = [
    // name, N, each appliance's share of the catalogue (below 1/N: not everything fits)
    ['3 boxes, room to spare', 3, 0.5],
    ['5 boxes, catalogue does not fit', 5, 0.1],
    ['10 boxes, room for three copies', 10, 0.3],
    ['20 boxes, catalogue does not fit', 20, 0.03],
  ];
  const cat = catalog(3000, 3, (t, k) => 1000 + ((t * 7 + k * 13) % 50) * 100);
  const total = cat.fileBytes.reduce((x, y) => x + y, 0);
  const site = (n: number, share: number) => Array.from({ length: n }, (_, i) => box(`app-${i}`, total * share * 0.2, total * share * 0.8));

  it.each(cases)('%s', (_name, n, share) => {
    const before = placements(plan(cat, site(n, share)));
    const bound = 1.5 / (n + 1);
    // join: placements that left an appliance that was already there
    const joined = placements(plan(cat, site(n + 1, share)));
    const movedOnJoin = [...before].filter((p) => !joined.has(p)).length;
    expect(movedOnJoin / before.size).toBeLessThanOrEqual(bound);
    const toNewcomer = [...joined].filter((p) => p.startsWith(`app-${n}|`)).length;
    expect(toNewcomer).toBeGreaterThan(0);
    // leave: placements dropped from the appliances that stay
    const left = placements(plan(cat, site(n - 1, share)));
    const movedOnLeave = [...before].filter((p) => !p.startsWith(`app-${n - 1}|`) && !left.has(p)).length;
    expect(movedOnLeave / before.size).toBeLessThanOrEqual(1.5 / n);
  });
});
