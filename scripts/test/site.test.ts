// The dev site (`npm start`) as a user runs it: a real `node scripts/site.ts` process with the
// real origin, control and appliance daemon under it; a signed URL from its banner fetched with a
// Range header and compared byte for byte with the sample file; control and the origin answer;
// then SIGTERM: the site exits 0 and takes every process it started with it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SITE = fileURLToPath(new URL('../site.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitFor(p: ChildProcess, out: { text: string }, marker: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${marker}" within ${ms} ms:\n${out.text}`)), ms);
    const check = () => {
      if (out.text.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout?.on('data', check);
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`site exited (${code}) before "${marker}":\n${out.text}`));
    });
    check();
  });
}

describe('npm start (scripts/site.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-site-test-'));
  let site: ChildProcess | undefined;
  let pids: number[] = [];
  afterAll(() => {
    // a failed run must not leave the site or its services behind
    if (site && site.exitCode === null) site.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts origin, control and an appliance, serves a byte-exact range under a signed token, and stops on SIGTERM', async () => {
    const out = { text: '' };
    site = spawn(process.execPath, [SITE], {
      env: { ...process.env, EDGEBOX_SITE_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    site.stdout!.on('data', (b: Buffer) => (out.text += b.toString()));
    site.stderr!.on('data', (b: Buffer) => (out.text += b.toString()));
    await waitFor(site, out, 'site: ready', 60_000);

    const url = /(http:\/\/127\.0\.0\.1:\d+\/v1\/f\/(sample\.video_720p)\?t=[A-Za-z0-9_.-]+)/.exec(out.text);
    expect(url, out.text).not.toBeNull();
    pids = [...out.text.matchAll(/\(.*pid (\d+)[;)]/g)].map((m) => Number(m[1]));
    expect(pids.length, out.text).toBe(3);
    for (const name of ['origin', 'control']) {
      const base = new RegExp(`^${name}: (http://127\\.0\\.0\\.1:\\d+)`, 'm').exec(out.text)?.[1];
      expect(base, out.text).toBeDefined();
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
    }
    const file = readFileSync(join(dir, 'samples', url![2]));

    const res = await fetch(url![1], { headers: { range: 'bytes=1000-4999' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-4999/${file.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(1000, 5000))).toBe(true);

    // the appliance enrolled with control and reports to it
    const control = /^control: (http:\/\/127\.0\.0\.1:\d+)/m.exec(out.text)![1];
    const { operatorToken } = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { operatorToken: string };
    let listed: Array<{ name: string; publicUrl: string }> = [];
    for (let i = 0; i < 40 && listed.length === 0; i++) {
      const r = await fetch(`${control}/v1/appliances`, { headers: { authorization: `Bearer ${operatorToken}` } });
      listed = r.ok ? ((await r.json()) as typeof listed) : [];
      if (listed.length === 0) await new Promise((res) => setTimeout(res, 250));
    }
    expect(listed.map((a) => a.name)).toEqual(['appliance-1']);
    expect(url![1].startsWith(listed[0].publicUrl)).toBe(true);

    // the token is real: a forged one is refused
    const forged = await fetch(url![1].replace(/\?t=.*$/, '?t=AAAA.BBBB'));
    expect(forged.status).toBe(403);
    await forged.arrayBuffer();

    const exited = new Promise<number | null>((r) => site!.once('exit', (code) => r(code)));
    site.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.text).toContain('site: stopped');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
