// Bad masters are refused at ingest with a message naming the problem, and nothing reaches the
// origin store or control's ingest directory.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile, copyFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { packageTitle } from '../src/package-title.ts';
import { IngestError, probeMaster } from '../src/ingest.ts';
import { packagerSettings } from '../src/settings.ts';
import { ffmpegJob } from '../src/ff.ts';
import { makeMaster, tempDir } from './helpers/masters.ts';
import { runNode } from './helpers/processes.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let good: string;

beforeAll(async () => {
  tmp = await tempDir('ingest');
  good = await makeMaster(tmp.dir, 'good.mp4', { kind: 'flat', width: 320, height: 180, durationS: 5, languages: ['eng'] });
});
afterAll(async () => {
  await tmp?.cleanup();
});

async function refused(master: string, message: RegExp): Promise<void> {
  const store = join(tmp.dir, 'store');
  const reg = join(tmp.dir, 'reg');
  const settings = packagerSettings({ originStore: store, registerDir: reg, workDir: join(tmp.dir, 'work') }, {});
  const err = await packageTitle({ master, titleId: 'bad', settings, outDir: join(tmp.dir, 'out') }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IngestError);
  expect((err as Error).message).toMatch(message);
  expect(existsSync(store)).toBe(false);
  expect(existsSync(reg)).toBe(false);
  expect(existsSync(join(tmp.dir, 'out'))).toBe(false);
}

describe('ingest', () => {
  it('accepts a good master and reports its streams', async () => {
    const info = await probeMaster(good, 4);
    expect(info.video).toMatchObject({ width: 320, height: 180, fps: 25 });
    expect(info.durationS).toBeCloseTo(5, 0);
    expect(info.audio).toEqual([{ index: 0, language: 'eng', channels: 1, codec: 'aac' }]);
  });

  it('refuses a corrupt master (random bytes)', async () => {
    const p = join(tmp.dir, 'corrupt.mp4');
    await writeFile(p, randomBytes(200_000));
    await refused(p, /unreadable/);
  });

  it('refuses a truncated master (moov first, media cut off)', async () => {
    const p = join(tmp.dir, 'truncated.mp4');
    await copyFile(good, p);
    await truncate(p, Math.floor((await stat(p)).size * 0.5));
    await refused(p, /truncated|unreadable/);
  });

  it('refuses a truncated master (moov last, so no index at all)', async () => {
    const p = join(tmp.dir, 'moov-last.mp4');
    await ffmpegJob({ inputs: [{ path: good }], output: p, outputOptions: ['-c', 'copy'] });
    await truncate(p, Math.floor((await stat(p)).size * 0.7));
    await refused(p, /unreadable/);
  });

  it('refuses a master without video', async () => {
    const p = join(tmp.dir, 'audio-only.m4a');
    await ffmpegJob({ inputs: [{ path: good }], output: p, outputOptions: ['-map', '0:a', '-c', 'copy'] });
    await refused(p, /no video stream/);
  });

  it('refuses a master too short to package', async () => {
    const p = await makeMaster(tmp.dir, 'short.mp4', { kind: 'flat', width: 320, height: 180, durationS: 2 });
    await refused(p, /too short: 2\.00 s < 4 s/);
  });

  it('the CLI exits 2 with a JSON error body for a bad master', async () => {
    const p = join(tmp.dir, 'empty.mp4');
    await writeFile(p, '');
    const store = join(tmp.dir, 'cli-store');
    const r = await runNode(['packager/cli.ts', p, '--title', 'bad', '--json', '--origin-store', store, '--register-dir', join(tmp.dir, 'cli-reg')]);
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout);
    expect(body.error.code).toBe('bad_master');
    expect(body.error.message).toMatch(/unreadable/);
    expect(existsSync(store)).toBe(false);
  });

  it('the CLI names a bad setting and a bad title id', async () => {
    const bad = await runNode(['packager/cli.ts', good, '--title', 'ok', '--keyframe', '3', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/keyframeIntervalS/);
    const id = await runNode(['packager/cli.ts', good, '--title', 'Bad Id', '--json', '--origin-store', join(tmp.dir, 'x')]);
    expect(id.code).toBe(1);
    expect(JSON.parse(id.stdout).error.message).toMatch(/invalid title id/);
    expect((await readFile(good)).length).toBeGreaterThan(0); // the master is never touched
  });
});
