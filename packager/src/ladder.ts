// The per-title ladder: trial encodes over sampled shots → convex hull → rungs by quality steps.
// Every measurement and the decision go into one JSON document written beside the output.

import type { MasterInfo } from './ingest.ts';
import { convexHull, pickRungs, type Rung, type RungOptions, type TrialPoint } from './hull.ts';
import type { QualityProbe } from './quality.ts';
import { runTrials, sampleShots, trialPlan, type Shot } from './trials.ts';
import { jobLimit, type Limit } from './pool.ts';
import type { PackagerSettings } from './settings.ts';

export interface LadderDecision {
  metric: QualityProbe['metric'];
  vmafModelPath?: string;
  vmafSubsample: number;
  display: { width: number; height: number };
  shots: Shot[];
  trials: TrialPoint[];
  hull: TrialPoint[];
  rungOptions: RungOptions;
  rungs: Rung[];
}

/** Rung selection thresholds on the metric's own scale (SSIM is reported ×100). */
export function rungOptions(s: PackagerSettings, metric: QualityProbe['metric']): RungOptions {
  const minBitrate = s.minBitrateKbps * 1000;
  if (metric === 'ssim') return { maxQuality: 99, qualityStep: 1.5, minQuality: 85, maxRungs: s.maxRungs, minBitrate };
  return { maxQuality: s.maxQuality, qualityStep: s.qualityStep, minQuality: s.minQuality, maxRungs: s.maxRungs, minBitrate };
}

export async function decideLadder(
  info: MasterInfo,
  s: PackagerSettings,
  q: QualityProbe,
  dir: string,
  onProgress: (fraction: number) => void,
  o: { limit?: Limit } = {},
): Promise<LadderDecision> {
  const shots = sampleShots(info.durationS, s.sampleShots, s.shotSeconds);
  const plan = trialPlan(info, s.trialBpp);
  const limit = o.limit ?? jobLimit(s.jobs);
  const trials = await runTrials(plan, info, shots, q, {
    dir, preset: s.trialPreset, keyframeS: s.keyframeIntervalS, limit, onProgress,
  });
  const hull = convexHull(trials);
  const options = rungOptions(s, q.metric);
  let rungs = pickRungs(hull, options);
  // Whatever happens, a title gets at least one rung: the best point measured.
  if (!rungs.length) {
    const best = hull[hull.length - 1];
    rungs = [{ width: best.width, height: best.height, bitrate: best.bitrate, targetBitrate: best.targetBitrate, predictedQuality: best.quality }];
  }
  onProgress(1);
  return {
    metric: q.metric,
    vmafModelPath: q.modelPath,
    vmafSubsample: q.subsample,
    display: { width: info.video.width, height: info.video.height },
    shots,
    trials,
    hull,
    rungOptions: options,
    rungs,
  };
}
