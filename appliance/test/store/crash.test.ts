// Crash safety: a process killed (SIGKILL) in the middle of put() leaves no partial file that
// could be listed or served, and the next start cleans its temp file away.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { filePath } from '../../src/store/layout.ts';
import { type Dirs, makeDirs, ManualClock, open, putFile, removeDirs } from './helpers.ts';

let d: Dirs;
beforeEach(async () => {
  d = await makeDirs();
});
afterEach(async () => {
  await removeDirs(d);
});

it('SIGKILL during a put: after restart nothing partial is visible, listed or left behind', async () => {
  // a file published before the crash must survive it
  const before = await open(d, new ManualClock());
  await putFile(before, 'crash.kept', 32 * 1024);
  await before.close();

  const script = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
  const child = spawn(process.execPath, [script, d.state, d.ssd, d.hdd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('mid-write') && resolve());
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    // the write really is in flight: a temp file holds its first bytes, the final name does not exist
    expect((await readdir(join(d.ssd, '.tmp'))).length).toBe(1);
    expect(existsSync(filePath(d.ssd, 'crash.big'))).toBe(false);
  } finally {
    child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');

  const after = await open(d, new ManualClock());
  try {
    expect(after.reconcileReport.tempsRemoved).toBe(1);
    expect(after.list().map((f) => f.fileId)).toEqual(['crash.kept']);
    expect(after.snapshot().map((f) => f.fileId)).toEqual(['crash.kept']);
    expect(await readdir(join(d.ssd, '.tmp'))).toEqual([]);
    expect(existsSync(filePath(d.ssd, 'crash.big'))).toBe(false);
    expect(existsSync(filePath(d.hdd, 'crash.big'))).toBe(false);
  } finally {
    await after.close();
  }
});
