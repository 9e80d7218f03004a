// `npm start` as a user runs it: a real `node scripts/site.ts` process (origin, control, BIRD,
// 2 embedded + 1 IX appliances under it) in a fresh site directory, with the quick sample
// (EDGEBOX_SITE_SAMPLE=quick: 12 s at 360p, made and packaged for real). Once it says "ready":
// control answers, every appliance is enrolled and reporting, the embedded ones learned the
// router's prefix over BGP, fill placed the title on the embedded appliances, the demo account
// starts a playback session whose token fetches byte-exact ranges from an embedded appliance, and
// control serves the player page. SIGINT stops every process it started and exits 0. A second
// start on the same directory reuses the packaged title, the account and the enrollments.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SiteFacts } from '../site/report.ts';

const SITE = fileURLToPath(new URL('../site.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Run {
  proc: ChildProcess;
  out: { text: string };
  exited: Promise<number | null>;
}

function startSite(dir: string): Run {
  const out = { text: '' };
  const proc = spawn(process.execPath, [SITE], {
    env: { ...process.env, EDGEBOX_SITE_DIR: dir, EDGEBOX_SITE_SAMPLE: 'quick' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (b: Buffer) => (out.text += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out.text += b.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out, exited };
}

function waitReady(run: Run, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "site: ready" within ${ms} ms:\n${run.out.text}`)), ms);
    const check = () => {
      if (run.out.text.includes('site: ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    run.proc.stdout!.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`site exited (${code}) before it was ready:\n${run.out.text}`));
    });
    check();
  });
}

async function stopSite(run: Run, facts: SiteFacts): Promise<void> {
  run.proc.kill('SIGINT');
  expect(await run.exited, run.out.text).toBe(0);
  expect(run.out.text).toContain('site: stopped');
  expect(facts.pids.filter(alive), 'processes left behind').toEqual([]);
}

async function op<T = any>(f: SiteFacts, path: string): Promise<T> {
  const res = await fetch(f.controlUrl + path, { headers: { authorization: `Bearer ${f.operatorToken}` } });
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

describe('npm start (scripts/site.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-site-test-'));
  const runs: Run[] = [];
  let first: SiteFacts;
  afterAll(() => {
    // a failed run must not leave the site or its services behind
    for (const r of runs) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
    const facts = (() => {
      try {
        return JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8')) as SiteFacts;
      } catch {
        return undefined;
      }
    })();
    for (const pid of facts?.pids ?? []) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (!process.env.EDGEBOX_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('first run: packages the sample, steers BGP prefixes, fills the appliances, serves the player; SIGINT stops everything', async () => {
    const run = startSite(dir);
    runs.push(run);
    await waitReady(run, 540_000);
    const f = (first = JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8')) as SiteFacts);
    expect(run.out.text).toContain('site: sample title packaged');

    const health = await fetch(`${f.controlUrl}/healthz`);
    expect(health.status).toBe(200);
    await health.arrayBuffer();

    // enrolled, reporting; the embedded pair has the router's prefix over BGP
    const listed = await op<Array<{ applianceId: string; name: string; siteId: string; prefixes: number; files: number; bgp: Array<{ state: string }>; lastReportAt: number | null }>>(f, '/v1/appliances');
    expect(listed.map((a) => `${a.siteId}/${a.name}`).sort()).toEqual(['isp-1/isp-1-1', 'isp-1/isp-1-2', 'ix-1/ix-1-1']);
    for (const a of listed) expect(a.lastReportAt, a.name).not.toBeNull();
    for (const a of listed.filter((x) => x.siteId === 'isp-1')) {
      expect(a.bgp.map((s) => s.state), a.name).toEqual(['Established']);
      const p = await op<{ routes: Array<{ prefix: string }> }>(f, `/v1/appliances/${a.applianceId}/prefixes`);
      expect(p.routes.map((r) => r.prefix), a.name).toEqual(['126.0.0.0/7']);
    }

    // fill placed the whole title on both embedded appliances (and the IX)
    const avail = await op<{ files: number; appliances: Array<{ siteId: string; complete: boolean }> }>(f, `/v1/titles/${f.titleId}/availability`);
    expect(avail.appliances.filter((a) => a.siteId === 'isp-1' && a.complete).length).toBe(2);

    // the demo account plays: its session's token fetches a range from an embedded appliance,
    // byte for byte what the origin holds
    const play = await fetch(`${f.controlUrl}/v1/playback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.account.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ titleId: f.titleId, profileId: f.account.profileId, device: 'site-test' }),
    });
    const session = (await play.json()) as { sessionId: string; targets: Array<{ tier: string; applianceId?: string; baseUrl: string }> };
    expect(play.status, JSON.stringify(session)).toBe(201);
    // steered by the BGP prefix to the embedded site first, the IX next, the origin last
    const embedded = listed.filter((a) => a.siteId === 'isp-1').map((a) => a.applianceId);
    expect(session.targets.map((t) => t.tier), JSON.stringify(session.targets)).toEqual(['local', 'local', 'fallback', 'origin']);
    expect(embedded).toContain(session.targets[0].applianceId);
    const token = /\/v1\/t\/([^/]+)\/f\/$/.exec(session.targets[0].baseUrl)?.[1];
    expect(token, session.targets[0].baseUrl).toBeDefined();
    const manifest = JSON.parse(readFileSync(join(dir, 'origin', 'manifests', `${f.titleId}.json`), 'utf8')) as { files: Array<{ fileId: string }> };
    const fileId = manifest.files[0].fileId;
    const bytes = readFileSync(join(dir, 'origin', fileId));
    const isp = f.appliances.find((a) => a.name === 'isp-1-1')!;
    const res = await fetch(`${isp.origin}/v1/t/${token}/f/${fileId}`, { headers: { range: 'bytes=100-4099' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100, 4100))).toBe(true);
    await fetch(`${f.controlUrl}/v1/playback/${session.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${f.account.apiToken}` } });

    // control serves the player page the banner points at
    const page = await fetch(f.playerUrl.replace(/#.*$/, ''));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    await page.arrayBuffer();
    expect(run.out.text).toContain(f.playerUrl);
    expect(run.out.text).toContain(f.statusUrl);

    await stopSite(run, f);
  }, 720_000);

  it('second run: reuses the packaged title, the account and the enrollments', async () => {
    expect(first, 'the first run did not get ready').toBeDefined();
    const run = startSite(dir);
    runs.push(run);
    await waitReady(run, 300_000);
    const f = JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8')) as SiteFacts;
    expect(run.out.text).toContain('site: sample title from the cache');
    expect(run.out.text).not.toContain('site: registered');
    expect(f.account.accountId).toBe(first.account.accountId);
    expect(f.appliances.map((a) => a.applianceId)).toEqual(first.appliances.map((a) => a.applianceId));
    // control still reaches each appliance where it serves now (it keeps the URL from enrollment)
    const listed = await op<Array<{ applianceId: string; publicUrl: string }>>(f, '/v1/appliances');
    expect(listed.map((a) => `${a.applianceId} ${a.publicUrl}`).sort()).toEqual(f.appliances.map((a) => `${a.applianceId} ${a.origin}`).sort());
    await stopSite(run, f);
  }, 420_000);
});
