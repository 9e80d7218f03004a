// Fill, proven on the whole system (issue 8, "Tests (real processes on loopback)"): the origin,
// control, an embedded site of 3 appliances (lon-1) and an IX site of 1 (ix-eu) in region eu, all
// real processes, each appliance enrolled through the operator API. Every fill source sits behind
// a counting fault proxy (scripts/lib/fault-proxy.ts): control lists the origin's proxy as the
// origin and each appliance enrolls with its proxy as its public URL, so every byte a source
// serves is counted with the appliance that asked (the peer token's subject), and a source can be
// made to serve damaged bytes or die mid-file.
//
// The steps share one cluster and run in order; each names what it relies on from the steps
// before. Fill windows are the sites' real windows, in UTC, placed around the current hour
// (open, or closed for at least the next hour). The planner runs only when a step asks
// (POST /v1/fill/plan; no schedule). Nothing here asserts a timing: every wait polls for a state
// with a generous deadline.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ApplianceSpec, type Cluster, type ClusterAppliance } from '../lib/cluster.ts';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../lib/fault-proxy.ts';
import { addTitle, type TestTitle } from '../lib/test-titles.ts';
import {
  describeFill, holding, holdsExactlyItsPlan, KiB, MiB, mountTmpfs, planned, sleep, unmount, viewerUrl, waitFor, windowAt, within,
} from './helpers/fill-cluster.ts';

/** the parts of control's GET /v1/fill/status these steps read (control/src/fill/status.ts) */
interface ControlFill {
  sites: Array<{ siteId: string; appliances: Array<{ applianceId: string; plannedFiles: number; heldFiles: number; report: { blocked: string | null } | null }> }>;
  badSources: Array<{ fileId: string; sourceId: string; reason: string; reportedBy: string }>;
}

/** every embedded appliance's store cap: the catalogue does not fit one box, so placement matters */
const EMBEDDED_BYTES = 2 * MiB;
/** the IX appliance's store: a tmpfs this big (room for the whole catalogue) */
const IX_BYTES = 16 * MiB;
const CATALOGUE_TITLES = 64;
const FILL_TIMEOUT = 180_000;
/** each step: its waits are bounded well inside this */
const STEP_TIMEOUT = 420_000;

describe('fill across a cluster: 3 embedded + 1 IX appliance, origin and control as real processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-fill-test-'));
  const ixStore = join(dir, 'ix-store');
  let tmpfs = false;
  let c: Cluster;
  let originProxy: FaultProxy;
  /** appliance name → the proxy it enrolled with (its public URL) */
  const proxies = new Map<string, FaultProxy>();
  let catalogue: TestTitle[] = [];
  let missTitle: TestTitle;
  let lon: () => ClusterAppliance[];
  let ix: ClusterAppliance;

  const embeddedSpec = (name: string): ApplianceSpec => ({
    settings: { storage: [{ path: join(dir, name, 'store'), type: 'ssd', maxBytes: EMBEDDED_BYTES }] },
    publicUrl: async (own) => {
      const p = await startFaultProxy(own);
      proxies.set(name, p);
      return p.url;
    },
  });
  const ixSpec = (name: string): ApplianceSpec => ({
    settings: {
      storage: [{ path: ixStore, type: 'ssd', ...(tmpfs ? {} : { maxBytes: IX_BYTES }) }],
      // the store keeps 64 MiB free by default: far more than this small disk
      storeTuning: { reserveBytes: 0 },
    },
    publicUrl: embeddedSpec(name).publicUrl,
  });

  /** every source's proxy: the origin's and every appliance's */
  const allProxies = () => [originProxy, ...proxies.values()];
  const fileRequests = (filter: (r: ProxiedRequest) => boolean = () => true) =>
    allProxies().flatMap((p) => p.requests((r) => r.fileId !== null && filter(r)));
  const nameOfProxy = (p: FaultProxy) => [...proxies].find(([, x]) => x === p)?.[0] ?? 'origin';
  const applianceByName = (name: string) => c.appliances.find((a) => a.name === name)!;
  const fileBytes = (fileId: string) => readFileSync(join(c.origin.store, fileId));
  const explain = () => describeFill(c.appliances);
  const controlFill = () => c.control.api.fillStatus() as Promise<ControlFill>;
  /** what each step measured, printed at the end: the figures behind the assertions */
  const facts: Record<string, unknown> = {};

  beforeAll(async () => {
    tmpfs = mountTmpfs(ixStore, IX_BYTES);
    const closed = windowAt(false);
    c = await startCluster({
      dir,
      sites: [
        { siteId: 'lon-1', kind: 'embedded', region: 'eu', fillWindow: closed, appliances: 3 },
        { siteId: 'ix-eu', kind: 'ix', region: 'eu', fillWindow: closed, appliances: 1 },
      ],
      // plan only when a step asks; an appliance may take its whole plan in one night
      control: { fillPlanSchedule: '', fillChurnFraction: 1 },
      originUrlFor: async (url) => (originProxy = await startFaultProxy(url)).url,
      appliance: (siteId, i) => (siteId === 'ix-eu' ? ixSpec(`ix-eu-${i + 1}`) : embeddedSpec(`lon-1-${i + 1}`)),
    });
    lon = () => c.site('lon-1');
    ix = c.site('ix-eu')[0];

    // the catalogue: 64 one-stream titles of 64–160 KiB (about 7 MiB: a third of the site's
    // room, all of the IX's), eight of them promoted; and the title the miss step asks for
    for (let i = 0; i < CATALOGUE_TITLES; i++) {
      catalogue.push(await addTitle(c.control.api, c.origin.store, {
        titleId: `c${String(i).padStart(2, '0')}`, files: 1, bytes: 64 * KiB + (i % 4) * 32 * KiB,
      }));
    }
    for (let i = 0; i < 8; i++) {
      await c.control.api.promote(catalogue[i].titleId, { regions: ['eu'], expectedViews: 1000 - i * 100, releaseAt: Date.now() });
    }
    missTitle = await addTitle(c.control.api, c.origin.store, { titleId: 'premiere', files: 1, bytes: 384 * KiB });
    await c.control.api.promote('premiere', { regions: ['eu'], expectedViews: 100_000, releaseAt: Date.now() + 3600_000 });
    await c.control.api.plan();
  }, 300_000);

  afterAll(async () => {
    console.log(`[fill-cluster] ${JSON.stringify(facts, null, 1)}`);
    await c?.stop();
    await Promise.allSettled(allProxies().filter(Boolean).map((p) => p.close()));
    if (tmpfs) unmount(ixStore);
    if (!process.env.EDGEBOX_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('outside the window nothing is fetched, though every appliance has its manifest', async () => {
    for (const a of c.appliances) {
      await waitFor(`${a.name} to take on a manifest with files in a closed window`, async () => {
        const st = (await a.status())?.fill;
        return st && st.manifestVersion && st.wanted?.files > 0 && st.window?.open === false;
      }, { timeoutMs: 90_000, explain });
    }
    // a few scheduler ticks and report intervals in which a wrong engine would start fetching
    await sleep(4_000);
    for (const a of c.appliances) expect(await a.files(), a.name).toEqual([]);
    expect(fileRequests().map((r) => `${r.from} ${r.path}`)).toEqual([]);
  }, STEP_TIMEOUT);

  it('100 concurrent viewer misses for one planned file make one upstream fetch, and every viewer gets the exact bytes', async () => {
    const fileId = missTitle.files[0].fileId;
    const x = lon()[0];
    expect(planned(await x.fillManifest()), 'the premiere is planned on every lon-1 appliance').toContain(fileId);
    // hold the one upstream body a quarter in, so all 100 viewers arrive while it is in flight
    const hold = originProxy.add({ kind: 'hold', file: fileId, afterBytes: 96 * KiB });
    const url = viewerUrl(c, x.origin, fileId);
    const viewers = Array.from({ length: 100 }, async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    });
    await within(hold.held, 60_000, 'the appliance to fetch the missed file from the origin');
    let inFlight = 0;
    await waitFor('100 viewer requests in flight at the appliance', async () => {
      const m = /^edgebox_http_in_flight_requests(?:\{[^}]*\})?\s+(\d+)/m.exec(await x.metrics());
      inFlight = Math.max(inFlight, m ? Number(m[1]) : 0);
      return inFlight >= 100;
    }, { timeoutMs: 30_000 }).catch(() => undefined); // slow machine: release anyway, the count below still holds
    facts.miss = { inFlightWhileHeld: inFlight };
    hold.release();
    hold.remove();
    const got = await Promise.all(viewers);
    const want = fileBytes(fileId);
    expect(got.map((g) => g.status)).toEqual(Array(100).fill(200));
    expect(got.filter((g) => !g.body.equals(want)).length).toBe(0);
    expect(fileRequests((r) => r.fileId === fileId).map((r) => `${nameOfProxy(allProxies().find((p) => p.log.includes(r))!)} ${r.range ?? ''}`))
      .toEqual(['origin ']);
    await waitFor(`${x.name} to keep the file it fetched for the viewers`, async () => (await x.files()).includes(fileId));
  }, STEP_TIMEOUT);

  it("the operator's fill-now fills a closed window: the IX appliance takes exactly its plan, each file once from the origin, and lon-1 stays as it was", async () => {
    const lonBefore = new Map(await Promise.all(lon().map(async (a) => [a.name, await a.files()] as const)));
    await c.control.api.fillNow('ix-eu', 120);
    const h = await waitFor('the IX appliance to hold exactly its plan', () => holdsExactlyItsPlan(ix), { timeoutMs: FILL_TIMEOUT, explain });
    const planBytes = h.manifest!.files.reduce((n, f) => n + f.bytes, 0);
    // the IX site has no peers and no tier above it: everything comes from the origin, once
    const ixFromOrigin = originProxy.bytes((r) => r.from === ix.applianceId && r.fileId !== null);
    facts.fillNow = { ixPlanFiles: h.manifest!.files.length, ixPlanBytes: planBytes, ixFromOrigin };
    expect(ixFromOrigin).toBeLessThanOrEqual(planBytes);
    expect(h.manifest!.files.length).toBeGreaterThanOrEqual(CATALOGUE_TITLES); // room for the whole catalogue
    for (const a of lon()) expect(await a.files(), `${a.name}'s window is closed`).toEqual(lonBefore.get(a.name));
  }, STEP_TIMEOUT);

  it('an open window fills exactly the plan on every lon-1 appliance, from the IX tier and peers rather than the origin', async () => {
    // sources are what control knows: wait until the IX appliance's last report listed all it holds
    await waitFor('control to know the IX appliance holds its plan', async () => {
      const entry = (await controlFill()).sites.flatMap((x) => x.appliances).find((x) => x.applianceId === ix.applianceId);
      return entry && entry.plannedFiles > 0 && entry.heldFiles === entry.plannedFiles;
    }, { timeoutMs: 60_000 });
    const ixHeld = new Set(await ix.files());
    const lonIds = new Set(lon().map((a) => a.applianceId));
    const originBefore = originProxy.bytes((r) => r.from !== null && lonIds.has(r.from) && r.fileId !== null);
    await c.putSite({ siteId: 'lon-1', kind: 'embedded', region: 'eu', fillWindow: windowAt(true) });
    const done: Awaited<ReturnType<typeof holding>>[] = [];
    for (const a of lon()) {
      done.push(await waitFor(`${a.name} to hold exactly its plan`, () => holdsExactlyItsPlan(a), { timeoutMs: FILL_TIMEOUT, explain }));
    }
    // what the plan needs from the origin: files no appliance of the region held when the window opened
    const needed = done.reduce((n, h) => n + h.manifest!.files.filter((f) => !ixHeld.has(f.fileId)).reduce((m, f) => m + f.bytes, 0), 0);
    const fromOrigin = originProxy.bytes((r) => r.from !== null && lonIds.has(r.from) && r.fileId !== null) - originBefore;
    facts.window = {
      planFiles: done.map((h) => h.manifest!.files.length), neededFromOrigin: needed, fromOrigin,
      originRequests: originProxy.requests((r) => r.from !== null && lonIds.has(r.from) && r.fileId !== null)
        .map((r) => `${lon().find((a) => a.applianceId === r.from)?.name} ${r.fileId} ${r.status} ${r.range ?? ''} ${r.bytes}`),
      failedApplianceRequests: [...proxies].flatMap(([name, p]) => p.requests((r) => r.fileId !== null && r.status >= 300)
        .map((r) => `${name} ← ${c.appliances.find((a) => a.applianceId === r.from)?.name} ${r.fileId} ${r.status}`)),
    };
    expect(fromOrigin).toBeLessThanOrEqual(needed);
    const fromAppliances = [...proxies.values()].reduce((n, p) => n + p.bytes((r) => r.from !== null && lonIds.has(r.from) && r.fileId !== null), 0);
    expect(fromAppliances).toBeGreaterThan(0);
    // the engines' own accounting agrees that the tier and peers did the work
    const levels = await Promise.all(lon().map(async (a) => (await a.status()).fill.bytesBySource as Record<string, number>));
    facts.window = { ...(facts.window as object), fromAppliances, levels };
    expect(levels.reduce((n, l) => n + l.peer + l.tier, 0)).toBeGreaterThan(0);
  }, STEP_TIMEOUT);

  it('an appliance joining the site moves about 1/N of the copies, fills from its peers first, and every box ends on its new plan', async () => {
    const before = new Map(await Promise.all(lon().map(async (a) => [a.name, new Set(planned(await a.fillManifest()))] as const)));
    const d = await c.addAppliance('lon-1', embeddedSpec('lon-1-4'));
    await c.control.api.plan();
    const dManifest = (await d.fillManifest())!;
    const after = new Map(await Promise.all(lon().map(async (a) => [a.name, new Set(planned(await a.fillManifest()))] as const)));
    let oldCopies = 0;
    let moved = 0;
    for (const [name, files] of before) {
      oldCopies += files.size;
      for (const f of files) if (!after.get(name)!.has(f)) moved++;
    }
    const n = lon().length;
    const share = moved / oldCopies;
    facts.join = { oldCopies, moved, share, n, newcomerFiles: after.get(d.name)!.size };
    // rendezvous hashing: about 1/N of the copies move (to the newcomer); modulo hashing would move ~(N-1)/N
    expect(share, `${moved} of ${oldCopies} copies moved`).toBeLessThanOrEqual(1 / n + 0.2);
    expect(after.get(d.name)!.size).toBeGreaterThan(0);

    for (const a of lon()) await waitFor(`${a.name} to hold exactly its new plan`, () => holdsExactlyItsPlan(a), { timeoutMs: FILL_TIMEOUT, explain });
    // the newcomer's files were all somewhere in the region: nothing from the origin
    expect(originProxy.bytes((r) => r.from === d.applianceId && r.fileId !== null)).toBe(0);
    // peers first: a file the newcomer took from the IX tier had no peer among its sources, or a peer was asked first
    const fromD = fileRequests((r) => r.from === d.applianceId);
    const ixProxy = proxies.get(ix.name)!;
    const peerIds = new Set(dManifest.sources.filter((x) => x.level === 'peer').map((x) => x.id));
    for (const r of ixProxy.requests((x) => x.from === d.applianceId && x.fileId !== null && x.status < 300)) {
      const hadPeer = dManifest.files.find((f) => f.fileId === r.fileId)?.sources.some((id) => peerIds.has(id)) ?? false;
      const askedPeerFirst = fromD.some((p) => p.fileId === r.fileId && p.at <= r.at && !ixProxy.log.includes(p));
      expect(!hadPeer || askedPeerFirst, `${r.fileId} from the tier without asking the peer its manifest listed`).toBe(true);
    }
    const fromPeers = [...proxies].filter(([name]) => name.startsWith('lon-1-')).reduce((s, [, p]) => s + p.bytes((r) => r.from === d.applianceId), 0);
    facts.join = { ...(facts.join as object), newcomerFromPeers: fromPeers, newcomerFromTier: ixProxy.bytes((r) => r.from === d.applianceId) };
    expect(fromPeers).toBeGreaterThan(0);
  }, STEP_TIMEOUT);

  it('a source serving a damaged copy is detected (sha256), reported, and the file is fetched elsewhere', async () => {
    const e = await c.addAppliance('lon-1', embeddedSpec('lon-1-5'));
    // every appliance source damages the first file body it serves the newcomer
    const faults = [...proxies].filter(([name]) => name !== e.name)
      .map(([name, p]) => ({ name, p, f: p.add({ kind: 'corrupt', file: '*', from: e.applianceId, times: 1 }) }));
    await c.control.api.plan();
    const h = await waitFor(`${e.name} to hold exactly its plan`, () => holdsExactlyItsPlan(e), { timeoutMs: FILL_TIMEOUT, explain });
    const damaged = faults.flatMap((x) => x.p.requests((r) => r.from === e.applianceId && r.faults.includes('corrupt'))
      .map((r) => ({ source: applianceByName(x.name).applianceId, name: x.name, fileId: r.fileId!, at: r.at })));
    for (const x of faults) x.f.remove();
    facts.damaged = damaged.map((d) => `${d.name} ${d.fileId}`);
    expect(damaged.length, 'the newcomer fetched from at least one appliance source').toBeGreaterThan(0);
    facts.damagedSeenByTheAppliance = (await e.status()).fill.badSources;
    // reported: control lists each damaged copy as a bad source, named by the newcomer
    const isListed = (bad: ControlFill['badSources'], d: (typeof damaged)[number]) =>
      bad.some((b) => b.fileId === d.fileId && b.sourceId === d.source && b.reason === 'sha256_mismatch' && b.reportedBy === e.applianceId);
    const bad = await waitFor('control to list every damaged copy as a bad source', async () => {
      const list = (await controlFill()).badSources;
      return damaged.every((d) => isListed(list, d)) && list;
    }, { timeoutMs: 60_000, explain: async () => JSON.stringify((await controlFill()).badSources) });
    facts.badSourcesAtControl = bad.map((b) => `${b.sourceId} ${b.fileId} ${b.reason}`);
    for (const d of damaged) {
      // fetched again, whole, from another source
      const again = fileRequests((r) => r.from === e.applianceId && r.fileId === d.fileId && r.at >= d.at && r.done && !r.broken && r.faults.length === 0);
      const elsewhere = again.filter((r) => !proxies.get(d.name)!.log.includes(r));
      expect(elsewhere.length, `${d.fileId} fetched from another source after ${d.name} damaged it`).toBeGreaterThan(0);
      if (h.held.includes(d.fileId)) {
        const res = await fetch(viewerUrl(c, e.origin, d.fileId));
        expect(Buffer.from(await res.arrayBuffer()).equals(fileBytes(d.fileId))).toBe(true);
      }
    }
    for (const a of lon()) await waitFor(`${a.name} to hold exactly its plan`, () => holdsExactlyItsPlan(a), { timeoutMs: FILL_TIMEOUT, explain });
  }, STEP_TIMEOUT);

  it('a source killed mid-file: the download resumes with Range from where it stopped', async () => {
    const cutAt = 300 * KiB;
    const title = await addTitle(c.control.api, c.origin.store, { titleId: 'resume', files: 1, bytes: 1 * MiB });
    const fileId = title.files[0].fileId;
    catalogue.push(title);
    const hold = originProxy.add({ kind: 'hold', file: fileId, afterBytes: cutAt, times: 1 });
    await c.control.api.plan();
    const held = await within(hold.held, 120_000, `an appliance to fetch ${fileId} from the origin`);
    // the origin dies with the body a third sent; the appliance sees its connection break there
    await c.origin.kill();
    hold.cut();
    hold.remove();
    await sleep(500);
    await c.origin.restart();
    const who = c.appliances.find((a) => a.applianceId === held.from)!;
    expect(who, `the held download belongs to an appliance (${held.from})`).toBeDefined();
    await waitFor(`${who.name} to hold ${fileId}`, async () => (await who.files()).includes(fileId), { timeoutMs: FILL_TIMEOUT, explain });
    const later = fileRequests((r) => r.from === held.from && r.fileId === fileId && r.at >= held.at && r !== held);
    const resumed = later.find((r) => r.status < 300);
    expect(resumed, JSON.stringify(later)).toBeDefined();
    const start = Number(/^bytes=(\d+)-/.exec(resumed!.range ?? '')?.[1] ?? 0);
    facts.resume = { who: who.name, cutAt, requestsAfterCut: later.map((r) => `${r.status} ${r.range} ${r.bytes}`) };
    expect(start, `resumed with ${resumed!.range}`).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(cutAt);
    // not fetched again from zero: what reached it after the cut is the rest of the file
    expect(later.reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(title.bytes - start + cutAt);
    const res = await fetch(viewerUrl(c, who.origin, fileId));
    expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(title.files[0].sha256);
  }, STEP_TIMEOUT);

  it('a full disk stops filling, keeps serving, and is reported to control', async (ctx) => {
    if (!tmpfs) ctx.skip(); // needs root to mount the IX appliance's small tmpfs store
    await waitFor('the IX appliance to hold exactly its plan', () => holdsExactlyItsPlan(ix), { timeoutMs: FILL_TIMEOUT, explain });
    // something else on the box takes the disk, down to 64 KiB
    const s = statfsSync(ixStore);
    const filler = join(ixStore, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - 64 * KiB)));
    try {
      const big = await addTitle(c.control.api, c.origin.store, { titleId: 'big', files: 1, bytes: 2 * MiB });
      catalogue.push(big);
      await c.control.api.plan();
      expect(planned(await ix.fillManifest())).toContain(big.files[0].fileId);
      await waitFor('the IX appliance to report a full disk', async () => (await ix.status()).fill.blocked === 'no_space', { timeoutMs: 60_000, explain });
      await waitFor('control to know the IX appliance is blocked by a full disk', async () => {
        const entry = (await controlFill()).sites.flatMap((x) => x.appliances).find((x) => x.applianceId === ix.applianceId);
        return entry?.report?.blocked === 'no_space';
      }, { timeoutMs: 60_000, explain: async () => JSON.stringify(await c.control.api.fillStatus()).slice(0, 3000) });
      facts.fullDisk = { blocked: (await ix.status()).fill.blocked };
      expect((await ix.files()).includes(big.files[0].fileId)).toBe(false);
      expect((await ix.status()).fill.active.length, 'nothing downloading').toBe(0);
      // still serving what it holds, to viewers and to peers
      const held = (await ix.files())[0];
      const res = await fetch(viewerUrl(c, ix.origin, held));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(fileBytes(held))).toBe(true);
    } finally {
      unlinkSync(filler);
    }
  }, STEP_TIMEOUT);

  it('boxes that start filling together take each new file once into the region and once into the site, the rest from their peers', async () => {
    // three new titles, promoted to the top: planned on every lon-1 appliance and on the IX
    // appliance, held by none, and every window open (lon-1's since the window step, the IX's
    // forced since the fill-now step) — a premiere night in miniature
    const fresh: TestTitle[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await addTitle(c.control.api, c.origin.store, { titleId: `fresh${i}`, files: 1, bytes: 96 * KiB });
      await c.control.api.promote(t.titleId, { regions: ['eu'], expectedViews: 100_000, releaseAt: Date.now() + 3600_000 });
      fresh.push(t);
    }
    catalogue.push(...fresh);
    await c.control.api.plan();
    const ids = fresh.map((t) => t.files[0].fileId);
    const holders = new Map<string, ClusterAppliance[]>();
    for (const a of lon()) for (const id of planned(await a.fillManifest())) if (ids.includes(id)) holders.set(id, [...(holders.get(id) ?? []), a]);
    for (const id of ids) expect(holders.get(id)?.length ?? 0, `${id} planned on several lon-1 appliances`).toBeGreaterThan(1);
    for (const a of [...lon(), ix]) {
      const want = planned(await a.fillManifest()).filter((id) => ids.includes(id));
      await waitFor(`${a.name} to hold ${want.join(', ')}`, async () => {
        const has = new Set(await a.files());
        return want.every((id) => has.has(id));
      }, { timeoutMs: FILL_TIMEOUT, explain });
    }
    const lonIds = new Set(lon().map((a) => a.applianceId));
    const ixProxy = proxies.get(ix.name)!;
    const served = (p: FaultProxy, id: string, from: (x: string) => boolean) => p.bytes((r) => r.fileId === id && r.status < 300 && r.from !== null && from(r.from));
    const figures = ids.map((id, i) => ({
      fileId: id, bytes: fresh[i].bytes, holders: holders.get(id)!.length,
      ixFromOrigin: served(originProxy, id, (x) => x === ix.applianceId),
      siteFromOrigin: served(originProxy, id, (x) => lonIds.has(x)),
      siteFromTier: served(ixProxy, id, (x) => lonIds.has(x)),
      siteFromPeers: [...proxies].filter(([name]) => name.startsWith('lon-1-')).reduce((n, [, p]) => n + served(p, id, (x) => lonIds.has(x)), 0),
    }));
    facts.together = figures;
    for (const f of figures) {
      // once into the region (the IX appliance, from the origin), once into the site (its first
      // fetcher, from the tier); every other copy from a peer
      expect(f, f.fileId).toMatchObject({ ixFromOrigin: f.bytes, siteFromOrigin: 0, siteFromTier: f.bytes, siteFromPeers: (f.holders - 1) * f.bytes });
    }
  }, STEP_TIMEOUT);
});
