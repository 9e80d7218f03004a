// The operators' Prometheus rules (ops/prometheus/): promtool accepts them, their unit tests
// (edgebox.rules.test.yml: each alert fires on its series after its `for`, and not beside them)
// pass, every alert has such a test, and every metric they read is one the code exports, so a
// renamed series cannot leave an alert silently watching nothing. promtool comes from Debian's
// prometheus package (scripts/setup/debian-packages.txt); without it these tests fail.

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'ops', 'prometheus');
const RULES = readFileSync(join(DIR, 'edgebox.rules.yml'), 'utf8');
const TESTS = readFileSync(join(DIR, 'edgebox.rules.test.yml'), 'utf8');

async function promtool(...args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)('promtool', args, { cwd: DIR });
  return stdout + stderr;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('Prometheus rules for operators', () => {
  it('pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', 'edgebox.rules.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests', async () => {
    expect(await promtool('test', 'rules', 'edgebox.rules.test.yml')).toMatch(/SUCCESS/);
  });

  it('test every alert', () => {
    const alerts = [...RULES.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    const tested = new Set([...TESTS.matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('read only metrics the appliance and control export', () => {
    const exprs = [...RULES.matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1]).join('\n');
    // series names: edgebox_… not part of a recording rule's level:name:operation
    const used = new Set([...exprs.matchAll(/(?<![\w:])(edgebox_\w+)(?![\w:])/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThanOrEqual(10);
    const code = [...sources(join(ROOT, 'appliance', 'src')), ...sources(join(ROOT, 'control', 'src'))].join('\n');
    expect([...used].filter((name) => !code.includes(`'${name}'`))).toEqual([]);
  });
});
