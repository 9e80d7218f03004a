// Without a VMAF model the ladder falls back to SSIM and says so; an untagged audio track (`und`)
// is packaged without a language (Shaka Packager refuses `und`); a 180p source gets no rung
// above its own height.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { packageTitle } from '../src/package-title.ts';
import { packagerSettings } from '../src/settings.ts';
import { makeMaster, tempDir } from './helpers/masters.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('fallback');
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('fallbacks', () => {
  it('SSIM when no VMAF model is configured; untagged audio; small source', async () => {
    const master = await makeMaster(tmp.dir, 'm.mp4', { kind: 'flat', width: 320, height: 180, durationS: 5, languages: [''] });
    const settings = packagerSettings({
      vmafModelPath: '', sampleShots: 2, shotSeconds: 1, trialBpp: [0.05, 0.1], trialPreset: 'ultrafast', encodePreset: 'ultrafast',
    }, {});
    const r = await packageTitle({ master, titleId: 'fb', settings, outDir: join(tmp.dir, 'out'), dryRun: true });
    expect(r.ladder.metric).toBe('ssim');
    expect(r.qa.metric).toBe('ssim');
    expect(r.qa.passed).toBe(true);
    expect(r.published).toEqual([]);
    const video = r.manifest.files.filter((f) => f.kind === 'video');
    expect(video.every((f) => f.height === 180 && f.quality! > 80 && f.quality! <= 100)).toBe(true);
    const audio = r.manifest.files.filter((f) => f.kind === 'audio');
    expect(audio.map((a) => a.fileId)).toEqual(['fb.a_und']);
    expect(audio[0].language).toBeUndefined();
  });
});
