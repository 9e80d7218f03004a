// What the packager writes plays in a real browser: the packaged title (CMAF, CENC, DASH with
// ClearKey signalling) is served by the real origin, control hands out the per-session MPD and
// ClearKey licences, and Debian's Chromium decrypts and decodes it under shaka-player and dash.js,
// each finding the licence URL in the MPD on its own. A licence from a session that is no longer
// live must stop playback with a DRM error, so the test fails if playback did not really depend
// on the keys. Fails (never skips) where /usr/bin/chromium (or EDGEBOX_TEST_CHROMIUM) is missing.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { packagedTitle, type Packaged } from './helpers/packaged.ts';
import { startControlProcess, startOrigin, type Started } from './helpers/processes.ts';
import { PLAYER_PAGE } from './helpers/player-page.ts';

const CHROMIUM = process.env.EDGEBOX_TEST_CHROMIUM ?? '/usr/bin/chromium';
const TITLE = 't-browser';
const OPERATOR = 'operator-token-0123456789';
const URL_SECRET = 'url-token-secret-0123456789';
const NODE_MODULES = new URL('../../node_modules/', import.meta.url);
const SCRIPTS: Record<string, string> = {
  '/shaka-player.js': fileURLToPath(new URL('shaka-player/dist/shaka-player.compiled.js', NODE_MODULES)),
  '/dash.all.min.js': fileURLToPath(new URL('dashjs/dist/modern/umd/dash.all.min.js', NODE_MODULES)),
};

/** Each player's DRM failure: shaka's DRM category (6), dash.js's licenser error (114). */
const DRM_ERROR = {
  shaka: (e: any) => e.category === 6,
  dashjs: (e: any) => e.code === 114,
};

/** control writes its publicUrl into licence URLs, so it needs a known port before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The player page and the players' scripts, served from their own origin as a viewer's site would be. */
async function startPageServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const scripts = new Map<string, Buffer>();
  for (const [path, file] of Object.entries(SCRIPTS)) scripts.set(path, await readFile(file));
  const server: Server = createServer((req, res) => {
    const script = scripts.get(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PLAYER_PAGE);
    } else if (script) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

interface Session { sessionId: string; licenseUrl: string; dash: { url: string } }
/** what the page's state() returns: player errors, video currentTime and videoWidth, licence URLs asked */
interface PageState { errors: any[]; t: number; w: number; licences: string[] }

describe('browser playback (Chromium; shaka-player and dash.js)', () => {
  it('has Chromium to drive', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (npm test's setup does)`).toBe(true);
  });

  let p: Packaged;
  let origin: Started | undefined;
  let control: Started | undefined;
  let pages: { url: string; close: () => Promise<void> } | undefined;
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;
  let viewer: { apiToken: string; profileId: string };

  beforeAll(async () => {
    p = await packagedTitle(TITLE);
    origin = await startOrigin(p.store, { EDGEBOX_ORIGIN_URL_TOKEN_KEYS: JSON.stringify({ k1: URL_SECRET }) });
    const port = await freePort();
    control = await startControlProcess({
      EDGEBOX_CONTROL_PORT: String(port), EDGEBOX_CONTROL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      EDGEBOX_CONTROL_DB_PATH: join(p.dir, 'control.db'), EDGEBOX_CONTROL_INGEST_DIR: p.reg, EDGEBOX_CONTROL_ORIGIN_URL: origin.url,
      EDGEBOX_CONTROL_OPERATOR_TOKEN: OPERATOR, EDGEBOX_CONTROL_KEK: 'ab'.repeat(32),
      EDGEBOX_CONTROL_URL_TOKEN_KID: 'k1', EDGEBOX_CONTROL_URL_TOKEN_SECRET: URL_SECRET,
    });
    const op = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };
    const acc = (await (await fetch(`${control.url}/v1/accounts`, { method: 'POST', headers: op, body: JSON.stringify({ name: 'viewer', plan: 'premium', region: 'eu' }) })).json()) as any;
    const prf = (await (await fetch(`${control.url}/v1/accounts/${acc.accountId}/profiles`, { method: 'POST', headers: op, body: JSON.stringify({ name: 'p' }) })).json()) as any;
    viewer = { apiToken: acc.apiToken, profileId: prf.profileId };
    pages = await startPageServer();
    profileDir = await mkdtemp(join(tmpdir(), 'edgebox-chromium-'));
    // a fresh profile per run; playwright wants it as the persistent context's directory
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await control?.stop();
    await origin?.stop();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
    await p?.cleanup();
  });

  // the plan allows 4 streams: each test ends the sessions it started
  const open: string[] = [];
  afterEach(async () => {
    for (const sid of open.splice(0)) await endSession(sid);
  });

  async function endSession(sid: string): Promise<void> {
    const res = await fetch(`${control!.url}/v1/playback/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${viewer.apiToken}` } });
    expect(res.status).toBeLessThan(300);
  }

  async function newSession(): Promise<Session> {
    const res = await fetch(`${control!.url}/v1/playback`, {
      method: 'POST', headers: { authorization: `Bearer ${viewer.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ titleId: TITLE, profileId: viewer.profileId, device: 'chromium' }),
    });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(201);
    open.push(body.sessionId);
    return body as Session;
  }

  async function openPlayer(): Promise<Page> {
    const page = await browser!.newPage();
    if (process.env.EDGEBOX_TEST_BROWSER_LOG) page.on('console', (m) => console.error(`[page] ${m.text()}`));
    page.on('requestfailed', (r) => console.error(`[page] request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(pages!.url);
    await page.waitForFunction("typeof play === 'function' && typeof state === 'function' && 'dashjs' in window && 'shaka' in window");
    return page;
  }

  it('control answers the player\'s cross-origin MPD and licence requests with CORS', async () => {
    const s = await newSession();
    const headers = { origin: pages!.url.replace(/\/$/, '') };
    const mpd = await fetch(s.dash.url, { headers });
    expect(mpd.status).toBe(200);
    expect(mpd.headers.get('access-control-allow-origin')).toBe('*');
    const pre = await fetch(s.licenseUrl, { method: 'OPTIONS', headers: { ...headers, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  for (const which of ['shaka', 'dashjs'] as const) {
    it(`${which} plays the session MPD, its keys from the licence URL the MPD names`, async () => {
      const s = await newSession();
      const page = await openPlayer();
      try {
        await page.evaluate(([w, mpd]) => (globalThis as any).play(w, mpd, null), [which, s.dash.url]);
        await page.waitForFunction('state().errors.length > 0 || (state().t > 2 && state().w > 0)', undefined, { timeout: 30_000 });
        const state = (await page.evaluate('state()')) as PageState;
        expect(state.errors).toEqual([]);
        expect(state.t).toBeGreaterThan(2);
        expect(state.w).toBeGreaterThan(0);
        expect(state.licences.length).toBeGreaterThan(0);
        expect(state.licences.every((u) => u === s.licenseUrl)).toBe(true);
      } finally {
        await page.close();
      }
    });

    it(`${which}: a licence from a session that has ended stops playback with a DRM error`, async () => {
      const live = await newSession();
      const ended = await newSession();
      await endSession(open.pop()!);
      const page = await openPlayer();
      try {
        await page.evaluate(([w, mpd, lic]) => (globalThis as any).play(w, mpd, lic), [which, live.dash.url, ended.licenseUrl]);
        await page.waitForFunction('state().errors.length > 0', undefined, { timeout: 30_000 });
        const state = (await page.evaluate('state()')) as PageState;
        const first = JSON.stringify(state.errors[0]);
        expect(DRM_ERROR[which](state.errors[0]), first).toBe(true);
        // the refusal control gave for the ended session, carried in the player's error
        expect(first).toContain('session_not_live');
        expect(state.licences).toContain(ended.licenseUrl);
        expect(state.t).toBeLessThan(0.5);
      } finally {
        await page.close();
      }
    });
  }
});
