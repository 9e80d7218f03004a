// `npm run control` as a real process: a bad setting stops it with the setting's name; a good
// config serves and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../main.ts');
const dir = mkdtempSync(join(tmpdir(), 'edgebox-control-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>, untilLine?: RegExp) {
  const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exit = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  const ready = new Promise<string>((res, rej) => {
    const on = (d: Buffer) => {
      out += d;
      const m = untilLine && untilLine.exec(out);
      if (m) res(m[1]);
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.once('exit', () => rej(new Error(out)));
  });
  ready.catch(() => {}); // only awaited when a test waits for readiness
  return { p, exit, ready, output: () => out };
}

describe('control main', () => {
  it('exits 2 naming a bad setting', async () => {
    const r = run([], { EDGEBOX_CONTROL_TOP_K: '0', EDGEBOX_CONTROL_DB_PATH: ':memory:' });
    expect(await r.exit).toBe(2);
    expect(r.output()).toContain('setting "topK" (env EDGEBOX_CONTROL_TOP_K)');
  });

  it('exits 2 on an unreadable config file', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    const r = run([bad], {});
    expect(await r.exit).toBe(2);
    expect(r.output()).toContain(`config file ${bad}`);
  });

  it('serves with a config file and stops on SIGTERM', async () => {
    const cfg = join(dir, 'control.json');
    writeFileSync(cfg, JSON.stringify({ port: 0, dbPath: join(dir, 'c.db'), kek: 'ab'.repeat(32), urlTokenSecret: 'x'.repeat(20) }));
    const r = run([cfg], {}, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    const url = await r.ready;
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, appliances: 0, prefixes: 0 });
    r.p.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });
});
