// Debian's Chromium driven by playwright-core for the end-to-end test, launched as the packager's
// browser test does (fresh profile, headless, no sandbox, no GPU), plus what the test reads from
// the pages and from the appliances. A missing Chromium is an error, never a skip.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ClusterAppliance } from '../../lib/cluster.ts';

export const CHROMIUM = process.env.EDGEBOX_TEST_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser { context: BrowserContext; close(): Promise<void> }

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM} (Debian package chromium; scripts/setup installs it): the end-to-end browser test cannot run without it`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'edgebox-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** what the player page's `edgebox.state()` returns (control/src/ui/player/player.js) */
export interface PlayerState {
  signedIn: boolean;
  phase: string;
  error: null | { kind: string; status?: number; code?: string; message?: string; devices?: string[] | null; detail?: unknown };
  errors: Array<{ fatal: boolean; detail: unknown; at: number }>;
  session: null | { sessionId: string; licenseUrl: string; targets: Array<{ tier: string; applianceId: string | null; baseUrl: string }> };
  t: number;
  w: number;
  h: number;
  firstFrameMs: number | null;
  stalls: Array<{ at: number; ms: number; position: number | null; ongoing?: boolean }>;
  stalledMs: number;
  licenceRequests: number;
  targets: Array<{ rank: number; tier: string; applianceId: string | null; host: string; requests: number; failed: number; bytes: number }>;
  now: number;
}

export interface PageRequest { at: number; ms: number; kind: string; target: number; url: string; range: string | null; status: number; bytes: number; error: string | null }

export const state = (page: Page) => page.evaluate(() => (globalThis as any).edgebox.state()) as Promise<PlayerState>;
export const pageRequests = (page: Page) => page.evaluate(() => (globalThis as any).edgebox.requests()) as Promise<PageRequest[]>;
export const pageNow = (page: Page) => page.evaluate(() => performance.now());

/** Poll the page's state until `ok` holds or a fatal player error shows; the last state either way. */
export async function waitForState(page: Page, what: string, ok: (s: PlayerState) => boolean, timeoutMs: number): Promise<PlayerState> {
  const deadline = Date.now() + timeoutMs;
  let s = await state(page);
  while (!ok(s)) {
    if (s.errors.some((e) => e.fatal) || s.phase === 'refused') return s;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; page state: ${JSON.stringify({ ...s, stalls: s.stalls.slice(-5) })}`);
    await new Promise((r) => setTimeout(r, 200));
    s = await state(page);
  }
  return s;
}

/** Viewer responses an appliance has answered with file bytes (200/206 on its serving port), from its /metrics. */
export async function viewerResponses(a: ClusterAppliance): Promise<number> {
  const text = await a.metrics();
  let n = 0;
  for (const m of text.matchAll(/^edgebox_http_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm)) {
    if (/status="20[06]"/.test(m[1])) n += Number(m[2]);
  }
  return n;
}

/** clearkey licences control issued, from its /metrics */
export async function licencesIssued(controlUrl: string): Promise<number> {
  const text = await (await fetch(`${controlUrl}/metrics`)).text();
  const m = /^edgebox_control_licences_total\{[^}]*result="issued"[^}]*\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
