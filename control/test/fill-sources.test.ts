// Sources for boxes that fill together (control/src/fill/file-sources.ts), over real HTTP against
// a real control with an injected clock: for a file nobody holds yet, one planned holder per site
// is its first fetcher — its list starts at the IX tier (or the origin) — and the site's other
// planned holders list it as a peer before it holds the file; the region's IX appliances planned
// to hold it are tier sources; all of those are named in the file's notYet.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FillManifest } from '../../protocol/index.ts';
import { getManifest, TIERS } from './fill-helpers.ts';
import { addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

const TITLES = ['t1', 't2', 't3', 't4', 't5', 't6'];
const FILES = TITLES.flatMap((t) => [`${t}.v1`, `${t}.a1`]);

type Sources = Pick<FillManifest['files'][number], 'sources' | 'notYet'>;

describe('sources when a site fills together: one first fetcher per file and site', () => {
  let ctx: Ctx;
  let site: Enrolled[];
  let ix1: Enrolled;
  const send = (a: Enrolled, over: Parameters<typeof sendReport>[2] = {}) => sendReport(ctx, a, { tiers: TIERS, ...over });
  const manifestOf = async (a: Enrolled) => FillManifest.parse((await getManifest(ctx, a)).body);
  /** each appliance's sources for `fileId`, keyed by applianceId */
  const sourcesFor = async (who: Enrolled[], fileId: string): Promise<Map<string, Sources>> => {
    const out = new Map<string, Sources>();
    for (const a of who) {
      const f = (await manifestOf(a)).files.find((x) => x.fileId === fileId)!;
      out.set(a.applianceId, { sources: f.sources, ...(f.notYet ? { notYet: f.notYet } : {}) });
    }
    return out;
  };
  /** the appliance whose list for the file names no peer: the first fetcher */
  const firstFetchers = (lists: Map<string, Sources>, peers: Set<string>) =>
    [...lists].filter(([, s]) => !s.sources.some((id) => peers.has(id))).map(([id]) => id);

  beforeAll(async () => {
    ctx = await startTestControl({ fillPlanSchedule: '', fillSourcesRefreshMs: 0, fillChurnFraction: 1 });
    await addSite(ctx, 's1');
    await addSite(ctx, 'ix-eu', 'ix');
    for (const t of TITLES) await addTitle(ctx, titleRecord(t));
    site = [await enroll(ctx, 's1', 'a1'), await enroll(ctx, 's1', 'a2'), await enroll(ctx, 's1', 'a3')];
    ix1 = await enroll(ctx, 'ix-eu', 'ix1');
    // an empty fleet: every box has room for the whole catalogue, so every file is planned on all three
    for (const a of [...site, ix1]) await send(a, { files: [] });
    expect((await ctx.call('POST', '/v1/fill/plan', { token: OPERATOR })).status).toBe(200);
  });
  afterAll(() => ctx.close());

  it("nobody holds a file: exactly one first fetcher per file, its list starting at the tier; the others list it, not yet holding, before the tier", async () => {
    const ids = new Set(site.map((a) => a.applianceId));
    const designated = new Set<string>();
    for (const fileId of FILES) {
      const lists = await sourcesFor(site, fileId);
      const first = firstFetchers(lists, ids);
      expect(first, `${fileId}: ${JSON.stringify([...lists])}`).toHaveLength(1);
      designated.add(first[0]);
      for (const [id, s] of lists) {
        if (id === first[0]) expect(s, `${fileId} on its first fetcher`).toEqual({ sources: [ix1.applianceId, 'origin'], notYet: [ix1.applianceId] });
        else expect(s, `${fileId} on ${id}`).toEqual({ sources: [first[0], ix1.applianceId, 'origin'], notYet: [first[0], ix1.applianceId] });
      }
    }
    // rendezvous spreads the first fetches over the site (12 files, 3 boxes)
    expect(designated.size).toBeGreaterThan(1);
    // the IX appliance is alone in its site and has no tier: its own first fetcher, from the origin
    for (const f of (await manifestOf(ix1)).files) expect({ sources: f.sources, notYet: f.notYet }).toEqual({ sources: ['origin'], notYet: undefined });
  });

  it('once the first fetcher holds the file, the others list it as a holder; the tier it fetched from still has not it', async () => {
    const ids = new Set(site.map((a) => a.applianceId));
    const fileId = FILES[0];
    const [first] = firstFetchers(await sourcesFor(site, fileId), ids);
    const holder = site.find((a) => a.applianceId === first)!;
    const others = site.filter((a) => a !== holder);
    const before = (await manifestOf(others[0])).version;
    await send(holder, { files: [fileId] });
    expect((await manifestOf(others[0])).version).not.toBe(before);
    for (const [, s] of await sourcesFor(others, fileId)) expect(s).toEqual({ sources: [first, ix1.applianceId, 'origin'], notYet: [ix1.applianceId] });
    // the IX appliance gets it too: nothing is "not yet" any more
    await send(ix1, { files: [fileId] });
    for (const [, s] of await sourcesFor(others, fileId)) expect(s).toEqual({ sources: [first, ix1.applianceId, 'origin'] });
  });

  it('a stale box is not designated, nor a stale IX appliance listed: the first fetcher then starts at the origin', async () => {
    const ids = new Set(site.map((a) => a.applianceId));
    const fileId = FILES[1]; // held by nobody
    const [first] = firstFetchers(await sourcesFor(site, fileId), ids);
    const stale = site.find((a) => a.applianceId === first)!;
    const live = site.filter((a) => a !== stale);
    ctx.clock.t += 31_000; // the first fetcher and the IX appliance fall silent
    for (const a of live) await send(a);
    const lists = await sourcesFor(live, fileId);
    const next = firstFetchers(lists, ids);
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(first);
    for (const [id, s] of lists) {
      expect(s).toEqual(id === next[0] ? { sources: ['origin'] } : { sources: [next[0], 'origin'], notYet: [next[0]] });
    }
  });
});
