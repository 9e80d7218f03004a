// Bad settings stop the daemon before it does anything: exit code 2 and a message naming the
// setting (from the config file or the environment variable).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgebox-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(config: unknown, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const path = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  const child = spawn(process.execPath, [MAIN, '--config', path], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    }),
  );
}

const ok = { storage: [{ path: join(dir, 's'), type: 'ssd' }], stateDir: join(dir, 'state') };

describe('config errors', () => {
  const table: [string, unknown, Record<string, string>, RegExp][] = [
    ['unknown setting', { ...ok, listenn: '1.2.3.4:80' }, {}, /setting "listenn".*unknown setting/],
    ['bad listen address', { ...ok, listen: 'nowhere' }, {}, /setting "listen"/],
    ['port out of range', { ...ok, adminListen: '127.0.0.1:70000' }, {}, /setting "adminListen"/],
    ['bad storage type', { ...ok, storage: [{ path: '/x', type: 'tape' }] }, {}, /setting "storage\.0\.type"/],
    ['short token secret', { ...ok, tokenKeys: { k1: 'short' } }, {}, /setting "tokenKeys\.k1".*16 characters/],
    ['negative RAM tier', { ...ok, ramTierBytes: -1 }, {}, /setting "ramTierBytes"/],
    ['bad env override', ok, { EDGEBOX_WORKERS: 'many' }, /setting "workers" \(env EDGEBOX_WORKERS\)/],
    ['bad env number', ok, { EDGEBOX_HEADERS_TIMEOUT_MS: '-5' }, /setting "headersTimeoutMs" \(env EDGEBOX_HEADERS_TIMEOUT_MS\)/],
    ['not JSON', '{ nope', {}, /not valid JSON/],
    ['bad TLS mode', { ...ok, tls: { mode: 'sometimes' } }, {}, /setting "tls\.mode"/],
    ['TLS certificate without its key', { ...ok, tls: { mode: 'beside', certFile: 'cert.pem' } }, {}, /setting "tls": certFile and keyFile go together/],
    ['TLS public URL not https', { ...ok, tls: { mode: 'beside', publicUrl: 'http://edge.example.net' } }, {}, /setting "tls\.publicUrl".*https/],
    ['not an object', '[1,2]', {}, /must hold a JSON object/],
  ];
  for (const [name, config, env, want] of table) {
    it(name, async () => {
      const r = await run(config, env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
    });
  }

  it('a missing config file is named', async () => {
    const child = spawn(process.execPath, [MAIN, '--config', join(dir, 'absent.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/absent\.json/);
  });
});
