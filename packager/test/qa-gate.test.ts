// A failing QA check stops the publish with its reason: a packaged file damaged after Shaka wrote
// it (one byte of a sample flipped) must fail the decrypt round trip, and nothing may reach the
// origin store or control's ingest directory.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageTitle, QaError } from '../src/package-title.ts';
import { packagerSettings } from '../src/settings.ts';
import { topLevelBoxes } from '../src/mp4-boxes.ts';
import { makeMaster, tempDir } from './helpers/masters.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('qa-gate');
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('QA gate', () => {
  it('a damaged output fails QA and nothing is published', async () => {
    const master = await makeMaster(tmp.dir, 'm.mp4', { kind: 'flat', width: 320, height: 180, durationS: 4, languages: ['eng'] });
    const settings = packagerSettings({ originStore: join(tmp.dir, 'store'), registerDir: join(tmp.dir, 'reg'), encodePreset: 'ultrafast' }, {});
    let damaged = '';
    const err = await packageTitle({
      master, titleId: 'qa', settings, outDir: join(tmp.dir, 'out'),
      // One fixed rung: this test is about the gate, not the ladder.
      rungs: [{ width: 320, height: 180, bitrate: 200_000, targetBitrate: 200_000, predictedQuality: 0 }],
      afterPackage: async (files) => {
        damaged = files['qa.v180'];
        const mdat = (await topLevelBoxes(damaged)).find((b) => b.type === 'mdat')!;
        const fh = await open(damaged, 'r+');
        const at = mdat.start + Math.floor(mdat.size / 2);
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, at);
        b[0] ^= 0xff;
        await fh.write(b, 0, 1, at);
        await fh.close();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QaError);
    expect((err as QaError).reasons.join()).toMatch(/qa\.v180: packet \d+ differs/);
    expect(existsSync(join(tmp.dir, 'store'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'reg'))).toBe(false);
    // The reasons are kept beside the output for whoever investigates.
    const qa = JSON.parse(await readFile(join(tmp.dir, 'out', 'qa.qa.json'), 'utf8'));
    expect(qa.passed).toBe(false);
    expect(damaged).toBeTruthy();
  });
});
