// The product end to end, in a browser (issue 9, item 4): a real site on loopback — BIRD as the
// ISP's router advertising the viewer's block to the 2 appliances of the embedded site lon-1, an
// IX site of 1, the origin and control — a 20 s title made with ffmpeg, packaged and registered by
// the real packager and placed by fill (scripts/test/helpers/e2e-site.ts). The player page served
// by control signs in a demo account and plays it in Debian's Chromium:
//
// - shaka-player and dash.js (DASH) and hls.js (HLS, ClearKey configured the usual way) each play
//   the encrypted title: frames decode, currentTime passes 10 s, the licence is asked for once
//   (dash.js asks once per key: it builds ClearKey init data from each AdaptationSet's key id),
//   and every media request lands on an appliance of the embedded site — counted on the
//   appliances' /metrics and in the origin's log, not in the page;
// - the appliance serving the session is SIGKILLed mid-playback and playback goes on from the next
//   base URL (HLS: the next redundant variant); the stall and the first-frame time are measured
//   and written with the other figures to bench/results/e2e.json;
// - a second start on a one-stream account gets 429 naming the first device; a forged or expired
//   URL token gets 403 from the appliance; a licence request for another title's key is refused;
// - the status page shows the site, and both pages are photographed for the README
//   (control/src/ui/screenshots/).
//
// The player page keeps a small forward buffer (?buffer=4) so the failover happens while segments
// are still being fetched. No timing is asserted: the figures are recorded.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, tokenBaseUrl } from '../../protocol/index.ts';
import type { ClusterAppliance } from '../lib/cluster.ts';
import { addTitle } from '../lib/test-titles.ts';
import {
  launchChromium, licencesIssued, pageNow, pageRequests, state, viewerResponses, waitForState, type Browser, type PlayerState,
} from './helpers/e2e-browser.ts';
import { startE2eSite, VIEWER_PREFIX, type E2eSite, type Viewer } from './helpers/e2e-site.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results', 'e2e.json');
const SCREENSHOTS = join(ROOT, 'control', 'src', 'ui', 'screenshots');
const TITLE = 'e2e';
const DURATION_S = 20;
const ENGINES = ['shaka', 'dashjs', 'hlsjs'] as const;
type Engine = (typeof ENGINES)[number];
const PLAYER_TIMEOUT = 360_000;

interface PlayerFigures {
  engine: Engine;
  format: 'dash' | 'hls';
  firstFrameMs: number | null;
  /** currentTime when the serving appliance was killed */
  killedAtPositionS: number;
  killed: string;
  survivor: string;
  /** time with currentTime not advancing, in stalls that began after the kill and before the next
   *  appliance's first media response reached the page */
  failoverStallMs: number;
  /** every stall after the kill: when (s after it), how long, where, whether it is the failover's */
  stallsAfterKill: Array<{ afterKillS: number; ms: number; position: number | null; failover: boolean }>;
  /** kill → first media response from the next appliance, in the page */
  killToNextApplianceMs: number | null;
  /** media requests that failed in the page (the dead appliance's) */
  failedMediaRequests: number;
  licenceRequests: number;
  /** viewer responses counted on each appliance's /metrics during this playback */
  viewerResponses: { killedBeforeKill: number; survivorAfterKill: number; ix: number; origin: number };
  resumedTo: number;
  testMs: number;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

describe('end to end in Chromium: steered playback through appliances, failover, refusals, status page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-e2e-'));
  const started = Date.now();
  const load = { atStart: loadavg(), atEnd: [] as number[] };
  let site: E2eSite;
  let browser: Browser;
  let viewer: Viewer;
  let single: Viewer;
  let setupMs = 0;
  const players: Partial<Record<Engine, PlayerFigures>> = {};
  const testMs: Record<string, number> = {};

  beforeAll(async () => {
    // no Chromium, no test: fail here, before minutes of setup
    browser = await launchChromium();
    site = await startE2eSite(dir, { titleId: TITLE, durationS: DURATION_S, log: (s) => console.log(`[e2e] ${s}`) });
    viewer = await site.account('Demo viewer', 'premium', [...ENGINES, 'status']);
    single = await site.account('One stream', 'basic', ['only']);
    setupMs = Date.now() - started;
  }, 900_000);

  afterAll(async () => {
    load.atEnd = loadavg();
    const done = ENGINES.map((e) => players[e]).filter((p): p is PlayerFigures => p !== undefined);
    if (done.length > 0) {
      const firstFrames = done.map((p) => p.firstFrameMs).filter((x): x is number => x !== null);
      const result = {
        what: 'end-to-end browser test (scripts/test/e2e-browser.test.ts): play → first frame, and the stall when the serving appliance is SIGKILLed',
        at: new Date().toISOString(),
        firstFrameMs: median(firstFrames),
        failoverStallMs: Math.max(...done.map((p) => p.failoverStallMs)),
        notes: 'firstFrameMs: median over the players of play pressed → first frame presented (loading the player\'s script from control, session start, manifest, licence, first segments). ' +
          'failoverStallMs: the worst player\'s time with currentTime not advancing in stalls that began after the kill and before the next appliance\'s first media response (0 = the buffer covered the failover); later stalls are listed per player (stallsAfterKill). Player page buffer goal 4 s, 2 s segments. ' +
          'killToNextApplianceMs: kill → the first media response from the next appliance (includes waiting for the player to need its next segment). ' +
          'Recorded, not asserted: the machine is shared (see load).',
        title: { durationS: DURATION_S, files: site?.files ?? [] },
        players: done,
        machine: { cpus: cpus().length, loadAverage: load },
        durationsMs: { setup: setupMs, ...site?.timings, tests: testMs, total: Date.now() - started },
      };
      mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
      writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`[e2e] ${JSON.stringify({ firstFrameMs: result.firstFrameMs, failoverStallMs: result.failoverStallMs, players: done.map((p) => [p.engine, p.firstFrameMs, p.failoverStallMs, p.killToNextApplianceMs]) })}`);
    }
    await browser?.close();
    await site?.stop();
    if (!process.env.EDGEBOX_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  async function openPlayer(v: Viewer, device: string, query = ''): Promise<Page> {
    const page = await browser.context.newPage();
    if (process.env.EDGEBOX_TEST_BROWSER_LOG) page.on('console', (m) => console.log(`[page] ${m.text()}`));
    await page.goto(`${site.c.control.url}/ui/player/${query}#account=${encodeURIComponent(v.apiToken)}&device=${encodeURIComponent(device)}`);
    await page.waitForFunction(() => (globalThis as any).edgebox?.state().signedIn === true, undefined, { timeout: 60_000 });
    return page;
  }

  async function play(page: Page, profile: string, engine: Engine): Promise<void> {
    await page.selectOption('#profile', { label: profile });
    await page.selectOption('#title', TITLE);
    await page.selectOption('#engine', engine);
    await page.check('#from-start');
    await page.click('#play');
  }

  const originRequests = () => (readFileSync(site.c.origin.logPath, 'utf8').match(/"url":"\/v1\/t\//g) ?? []).length;
  const noFatal = (s: PlayerState) => expect(s.errors.filter((e) => e.fatal), JSON.stringify(s.errors)).toEqual([]);

  for (const engine of ENGINES) {
    it(`${engine} plays the encrypted title through the embedded site and goes on from the next appliance when the serving one is SIGKILLed`, async () => {
      const t0 = Date.now();
      const [a1, a2] = site.embedded;
      const before = { [a1.name]: await viewerResponses(a1), [a2.name]: await viewerResponses(a2), ix: await viewerResponses(site.ix), origin: originRequests() };
      const licencesBefore = await licencesIssued(site.c.control.url);
      const page = await openPlayer(viewer, `e2e-${engine}`, `?buffer=4&player=${engine}`);
      // every media response the browser got, seen from outside the page
      const seen: Array<{ host: string; status: number }> = [];
      let killed: ClusterAppliance | undefined;
      page.on('response', (r) => {
        if (r.url().includes('/v1/t/')) seen.push({ host: new URL(r.url()).host, status: r.status() });
      });
      try {
        await play(page, engine, engine);

        // steered to the two embedded appliances, then the IX one, then the origin
        let s = await waitForState(page, 'a session', (x) => x.session !== null, 60_000);
        expect(s.session?.targets.map((t) => t.tier)).toEqual(['local', 'local', 'fallback', 'origin']);
        const ids = s.session!.targets.map((t) => t.applianceId);
        expect(new Set(ids.slice(0, 2))).toEqual(new Set(site.embedded.map((a) => a.applianceId)));
        expect(ids[2]).toBe(site.ix.applianceId);
        killed = site.embedded.find((a) => a.applianceId === ids[0])!;
        const survivor = site.embedded.find((a) => a.applianceId === ids[1])!;

        s = await waitForState(page, 'playback past 4 s with decoded frames', (x) => x.t > 4 && x.w > 0, 120_000);
        noFatal(s);
        const mid = { killed: await viewerResponses(killed), survivor: await viewerResponses(survivor), ix: await viewerResponses(site.ix) };
        const licencesAtKill = s.licenceRequests;
        // so far the first appliance served everything
        expect(mid.killed - before[killed.name]).toBeGreaterThan(0);
        expect(mid.survivor - before[survivor.name]).toBe(0);

        const killAt = await pageNow(page);
        const killedAtPositionS = s.t;
        await killed.kill();

        s = await waitForState(page, 'playback to go on past 10 s after the kill', (x) => x.t > Math.max(10.5, killedAtPositionS + 6), 120_000);
        noFatal(s);
        expect(s.t).toBeGreaterThan(10);
        expect(s.w).toBeGreaterThan(0);
        const after = { survivor: await viewerResponses(survivor), ix: await viewerResponses(site.ix), origin: originRequests() };
        const log = await pageRequests(page);
        // for failure messages: every media request the page made, relative to the kill
        const trace = log.filter((r) => r.kind === 'media')
          .map((r) => `${((r.at - killAt) / 1000).toFixed(2)}s #${r.target} ${r.range} → ${r.status || r.error} in ${r.ms} ms`).join('\n');

        // the next appliance took over; nothing went to the IX tier or the origin
        expect(after.survivor - mid.survivor, trace).toBeGreaterThan(0);
        expect(after.ix - before.ix, `IX appliance served viewers; page's media requests:\n${trace}`).toBe(0);
        expect(after.origin - before.origin, `origin served viewers; page's media requests:\n${trace}`).toBe(0);
        const hosts = new Set(seen.map((r) => r.host));
        const embeddedHosts = new Set(site.embedded.map((a) => new URL(a.publicUrl).host));
        expect([...hosts].filter((h) => !embeddedHosts.has(h)), `media requests outside the embedded site:\n${trace}`).toEqual([]);
        const survivorIndex = s.session!.targets.findIndex((t) => t.applianceId === survivor.applianceId);
        const fromSurvivor = log.filter((r) => r.kind === 'media' && r.target === survivorIndex && r.status >= 200 && r.status < 300 && r.at > killAt);
        expect(fromSurvivor.length).toBeGreaterThan(0);

        // the licence: once (dash.js once per key), and not again on failover
        const licences = (await licencesIssued(site.c.control.url)) - licencesBefore;
        const keys = engine === 'dashjs' ? new Set(JSON.parse(await (await fetch(`${site.c.origin.url}/v1/manifests/${TITLE}.json`)).text()).files.map((f: { kid?: string }) => f.kid)).size : 1;
        expect(s.licenceRequests).toBe(keys);
        expect(licences).toBe(keys);
        expect(s.licenceRequests).toBe(licencesAtKill);

        // a stall is the failover's if it began before the next appliance's first media response
        // reached the page (the player had no working source); later ones are recorded apart
        const stallsAfterKill = s.stalls.filter((x) => x.at + x.ms > killAt);
        const nextAt = fromSurvivor.length ? Math.min(...fromSurvivor.map((r) => r.at + r.ms)) : Infinity;
        const failoverStalls = stallsAfterKill.filter((x) => x.at <= nextAt);
        players[engine] = {
          engine, format: engine === 'hlsjs' ? 'hls' : 'dash', firstFrameMs: s.firstFrameMs, killedAtPositionS, killed: killed.name, survivor: survivor.name,
          failoverStallMs: failoverStalls.reduce((n, x) => n + x.ms, 0),
          stallsAfterKill: stallsAfterKill.map((x) => ({ afterKillS: Math.round(x.at - killAt) / 1000, ms: x.ms, position: x.position, failover: failoverStalls.includes(x) })),
          killToNextApplianceMs: Number.isFinite(nextAt) ? Math.round(nextAt - killAt) : null,
          failedMediaRequests: log.filter((r) => r.kind === 'media' && (r.status === 0 || r.status >= 400)).length,
          licenceRequests: s.licenceRequests,
          viewerResponses: { killedBeforeKill: mid.killed - before[killed.name], survivorAfterKill: after.survivor - mid.survivor, ix: after.ix - before.ix, origin: after.origin - before.origin },
          resumedTo: s.t,
          testMs: 0,
        };
        if (engine === 'shaka') {
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, 'player.png') });
        }
        await page.evaluate(() => (globalThis as any).edgebox.stop());
      } finally {
        await page.close();
        if (killed && !killed.running) await site.revive(killed);
        testMs[engine] = Date.now() - t0;
        if (players[engine]) players[engine]!.testMs = testMs[engine];
      }
    // One retry: on a heavily loaded 2-core machine shaka-player has once sent a single request to
    // the IX appliance (base URL #2) before the kill; a second failure fails the test. The case
    // revives the killed appliance in its finally, so a retry starts from the same site.
    }, { timeout: PLAYER_TIMEOUT, retry: 1 });
  }

  it('the status page shows sites, appliances with state and prefixes, fill, live sessions, misses and where titles are', async () => {
    const t0 = Date.now();
    const player = await openPlayer(viewer, 'living-room-tv', '?player=shaka');
    const page = await browser.context.newPage();
    try {
      await play(player, 'status', 'shaka');
      await waitForState(player, 'playback', (x) => x.t > 2, 120_000);
      await page.goto(`${site.c.control.url}/ui/status/#token=${encodeURIComponent(site.c.secrets.operatorToken)}`);
      await page.waitForFunction(() => ((globalThis as any).document.querySelector('#sessions tbody')?.textContent ?? '').includes('living-room-tv'), undefined, { timeout: 30_000 });
      const text = (sel: string) => page.locator(sel).innerText();
      const sites = await text('#sites');
      expect(sites).toContain('lon-1');
      expect(sites).toContain('ix-eu');
      const appliances = await text('#appliances');
      for (const a of [...site.embedded, site.ix]) expect(appliances).toContain(a.name);
      expect(appliances).toContain('healthy');
      expect(appliances).toContain('Established');
      // each embedded appliance lists the prefix BIRD gave it; the IX one has none
      expect(appliances.split(VIEWER_PREFIX).length - 1).toBe(2);
      expect(appliances).toMatch(/(\d+)\/\1 files/);
      const titles = await text('#titles');
      expect(titles).toContain(TITLE);
      for (const a of [...site.embedded, site.ix]) expect(titles).toContain(`${a.name} ✓`);
      const sessions = await text('#sessions');
      expect(sessions).toContain('living-room-tv');
      const first = (await state(player)).session!.targets[0].applianceId;
      expect(sessions).toContain(site.embedded.find((a) => a.applianceId === first)!.name);
      const tiles = await text('#tiles');
      for (const cause of ['misses: content', 'misses: health', 'misses: no route']) expect(tiles).toContain(cause);
      // without the operator token the data stays shut
      expect((await fetch(`${site.c.control.url}/v1/overview`)).status).toBe(401);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'status.png'), fullPage: true });
      await player.evaluate(() => (globalThis as any).edgebox.stop());
    } finally {
      await page.close();
      await player.close();
      testMs.status = Date.now() - t0;
    }
  }, PLAYER_TIMEOUT);

  it('a second start on a one-stream account gets 429 naming the first device', async () => {
    const first = await openPlayer(single, 'living-room-tv');
    const second = await openPlayer(single, 'phone');
    try {
      await play(first, 'only', 'shaka');
      await waitForState(first, 'the first stream', (x) => x.session !== null, 60_000);
      await play(second, 'only', 'shaka');
      const s = await waitForState(second, 'the refusal', (x) => x.error !== null, 60_000);
      expect(s.phase).toBe('refused');
      expect(s.error).toMatchObject({ kind: 'api', status: 429, code: 'stream_limit' });
      expect(s.error!.message).toContain('living-room-tv');
      expect(s.error!.devices).toEqual(['living-room-tv']);
      expect(await second.locator('#play-error').innerText()).toContain('living-room-tv');
      await first.evaluate(() => (globalThis as any).edgebox.stop());
    } finally {
      await first.close();
      await second.close();
    }
  }, PLAYER_TIMEOUT);

  describe('refusals at the edge and at the licence server', () => {
    let session: { sessionId: string; licenseUrl: string; targets: Array<{ tier: string; applianceId?: string; baseUrl: string }> };
    const viewerCall = (method: string, path: string, body?: unknown) => fetch(`${site.c.control.url}${path}`, {
      method, headers: { authorization: `Bearer ${viewer.apiToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    beforeAll(async () => {
      const res = await viewerCall('POST', '/v1/playback', { titleId: TITLE, profileId: viewer.profiles.status, device: 'curl' });
      expect(res.status).toBe(201);
      session = await res.json() as typeof session;
    });
    afterAll(async () => {
      if (session) await viewerCall('DELETE', `/v1/playback/${session.sessionId}`);
    });

    it('a forged or expired URL token gets 403 from the appliance', async () => {
      const local = session.targets[0];
      const a = site.embedded.find((x) => x.applianceId === local.applianceId)!;
      const fileId = site.files[0];
      const get = (url: string) => fetch(url, { headers: { range: 'bytes=0-99' } });
      expect((await get(`${local.baseUrl}${fileId}`)).status).toBe(206);
      const token = /\/v1\/t\/([^/]+)\/f\/$/.exec(local.baseUrl)![1];
      const [payload, sig] = token.split('.');
      const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
      const forged = await get(`${tokenBaseUrl(a.origin, `${payload}.${flipped}`)}${fileId}`);
      expect(forged.status).toBe(403);
      expect(((await forged.json()) as { error: { message: string } }).error.message).toContain('bad-signature');
      const expired = signToken({ kid: site.c.secrets.tokenKid, secret: site.c.secrets.tokenSecret, exp: Math.floor(Date.now() / 1000) - 60, files: site.files });
      const late = await get(`${tokenBaseUrl(a.origin, expired)}${fileId}`);
      expect(late.status).toBe(403);
      expect(((await late.json()) as { error: { message: string } }).error.message).toContain('expired');
    });

    it('a licence request for another title\'s key is refused', async () => {
      const other = await addTitle(site.c.control.api, site.c.origin.store, { titleId: 'other', files: 1, bytes: 64 * 1024 });
      const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
      const ask = (kids: string[]) => fetch(session.licenseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kids: kids.map(b64), type: 'temporary' }) });
      const foreign = await ask([other.record.keys[0].kid]);
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('kid_not_in_session');
      const manifest = JSON.parse(await (await fetch(`${site.c.origin.url}/v1/manifests/${TITLE}.json`)).text()) as { kids: string[] };
      // mixed with the session's own key it is refused as a whole
      expect((await ask([manifest.kids[0], other.record.keys[0].kid])).status).toBe(403);
      const own = await ask(manifest.kids);
      expect(own.status).toBe(200);
      expect(((await own.json()) as { keys: unknown[] }).keys).toHaveLength(manifest.kids.length);
    });
  });
});
