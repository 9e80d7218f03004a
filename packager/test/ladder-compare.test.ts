// Per-title versus fixed ladder on two synthetic masters of very different complexity. For each
// rung of a fixed ladder we measure its VMAF on a real encode of the whole master, ask the
// per-title hull (trials on sampled shots) for the cheapest resolution+bitrate reaching that
// VMAF, encode that for real, and measure it the same way. Per-title must reach equal or better
// VMAF with fewer bits in total. The figures are printed and written to the test's temp dir.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { probeMaster } from '../src/ingest.ts';
import { chooseMetric, measureQuality } from '../src/quality.ts';
import { decideLadder } from '../src/ladder.ts';
import { encodeRenditions } from '../src/encode.ts';
import { hullAt, type Rung } from '../src/hull.ts';
import { packagerSettings } from '../src/settings.ts';
import { makeMaster, tempDir, VMAF_MODEL, type MasterKind } from './helpers/masters.ts';

const W = 640, H = 360;
// A typical fixed ladder for a 360p top: the same rates whatever the content.
const FIXED: Rung[] = [
  { width: 640, height: 360, bitrate: 800_000, targetBitrate: 800_000, predictedQuality: 0 },
  { width: 426, height: 240, bitrate: 350_000, targetBitrate: 350_000, predictedQuality: 0 },
];

const settings = packagerSettings({
  vmafModelPath: VMAF_MODEL,
  // Shots covering the whole (short) master, so the comparison measures the ladder decision,
  // not how well two shots represent eight seconds.
  sampleShots: 3, shotSeconds: 2, vmafSubsample: 3,
  trialBpp: [0.015, 0.03, 0.06, 0.12, 0.24],
  trialPreset: 'veryfast', encodePreset: 'veryfast',
}, {});

interface Row { rung: string; bitrate: number; vmaf: number }

async function encodeAndScore(master: string, rungs: Rung[], dir: string): Promise<Row[]> {
  await mkdir(dir, { recursive: true });
  const info = await probeMaster(master, 1);
  const q = await chooseMetric(settings.vmafModelPath, settings.vmafSubsample);
  const streams = await encodeRenditions(info, rungs, { dir, preset: settings.encodePreset, keyframeS: 2, audioBitrateKbps: 128, onProgress: () => {} });
  const rows: Row[] = [];
  for (const s of streams) {
    const { size } = await stat(s.path);
    rows.push({ rung: `${s.height}p`, bitrate: Math.round((size * 8) / info.durationS), vmaf: await measureQuality(q, s.path, master, info.video) });
  }
  return rows;
}

describe('per-title ladder vs fixed ladder', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const report: Record<string, unknown> = {};
  beforeAll(async () => {
    tmp = await tempDir('compare');
  });
  afterAll(async () => {
    await writeFile(join(tmp.dir, '..', 'edgebox-ladder-compare.json'), JSON.stringify(report, null, 2)).catch(() => {});
    await tmp.cleanup();
  });

  for (const kind of ['flat', 'noisy'] as MasterKind[]) {
    it(`${kind} master: fewer bits at equal VMAF (within 1 point per rung)`, async () => {
      const dir = join(tmp.dir, kind);
      await mkdir(dir, { recursive: true });
      const master = await makeMaster(dir, 'master.mp4', { kind, width: W, height: H, durationS: 5 });
      const info = await probeMaster(master, 1);
      const q = await chooseMetric(settings.vmafModelPath, settings.vmafSubsample);
      expect(q.metric).toBe('vmaf');
      const decision = await decideLadder(info, settings, q, dir, () => {});

      const fixed = await encodeAndScore(master, FIXED, join(dir, 'fixed'));
      // Per-title: the hull's cheapest point reaching each fixed rung's VMAF (less half a point:
      // near saturation the last tenth of a VMAF point costs a third more bits); the top of the
      // hull when it cannot.
      const targets = fixed.map((f) => hullAt(decision.hull, f.vmaf - 0.5) ?? hullAt(decision.hull, decision.hull[decision.hull.length - 1].quality)!);
      const perTitle = await encodeAndScore(master, targets, join(dir, 'per-title'));
      const sum = (rows: Row[]) => rows.reduce((a, r) => a + r.bitrate, 0);
      const mean = (rows: Row[]) => rows.reduce((a, r) => a + r.vmaf, 0) / rows.length;
      const figures = {
        fixed,
        perTitle,
        fixedKbps: Math.round(sum(fixed) / 1000),
        perTitleKbps: Math.round(sum(perTitle) / 1000),
        savingPct: Math.round((1000 * (sum(fixed) - sum(perTitle))) / sum(fixed)) / 10,
        fixedMeanVmaf: Math.round(mean(fixed) * 10) / 10,
        perTitleMeanVmaf: Math.round(mean(perTitle) * 10) / 10,
        chosenLadder: decision.rungs.map((r) => `${r.height}p@${Math.round(r.bitrate / 1000)}k≈${r.predictedQuality.toFixed(1)}`),
      };
      report[kind] = figures;
      console.log(`[ladder-compare] ${kind}: ${JSON.stringify(figures)}`);

      // "Equal" VMAF: within one point per rung (a just-noticeable difference is about six).
      expect(sum(perTitle)).toBeLessThan(sum(fixed));
      for (const [i, r] of perTitle.entries()) expect(r.vmaf).toBeGreaterThanOrEqual(fixed[i].vmaf - 1);
    }, 180_000);
  }
});
