// Packager settings: defaults < JSON config file (--config) < env EDGEBOX_PACKAGER_<SETTING>.
// CLI flags override the few settings a run usually changes (see cli.ts).

import { z } from 'zod';
import { resolveSettings } from '../../protocol/index.ts';

export const PackagerSettings = z.object({
  /** libvmaf model (.pkl with its .pkl.model beside it); empty or missing file → SSIM fallback */
  vmafModelPath: z.string().default(''),
  /** one fixed keyframe interval for every rendition, seconds */
  keyframeIntervalS: z.union([z.literal(2), z.literal(4)]).default(2),
  /** shots sampled for trial encodes, and the length of each */
  sampleShots: z.number().int().min(1).max(20).default(4),
  shotSeconds: z.number().min(1).max(20).default(2.5),
  /** trial bitrates as bits per pixel per frame at each candidate resolution */
  trialBpp: z.array(z.number().positive()).min(2).default([0.02, 0.04, 0.08, 0.16]),
  /**
   * trial VMAF on every n-th frame (a pair: the scored frame and the one before it, for motion).
   * 32 scores 8 frames of a 10 s sample: on the bench master every rung kept its resolution and
   * moved by at most 5% in bitrate against 16, at half the trial VMAF CPU (48 at 16 moved rungs by
   * 10-20%)
   */
  vmafSubsample: z.number().int().min(1).default(32),
  /** QA VMAF of each rung (whole title) on every n-th frame: 25 frames of a 60 s title */
  qaVmafSubsample: z.number().int().min(1).default(60),
  trialPreset: z.string().default('veryfast'),
  /** ffmpeg jobs run side by side (each multi-threaded); 0 = one per core */
  jobs: z.number().int().min(0).default(0),
  encodePreset: z.string().default('veryfast'),
  /** ffmpeg processes the rungs are spread over, each decoding the master once */
  encodeProcesses: z.number().int().min(1).default(1),
  /** rungs are picked from the hull downwards from maxQuality in steps of qualityStep */
  maxQuality: z.number().min(1).max(100).default(95),
  qualityStep: z.number().positive().default(8),
  minQuality: z.number().min(0).default(40),
  maxRungs: z.number().int().min(1).max(12).default(6),
  minBitrateKbps: z.number().positive().default(80),
  audioBitrateKbps: z.number().int().positive().default(128),
  /** a master shorter than this is refused */
  minDurationS: z.number().positive().default(4),
  originStore: z.string().default('.data/origin'),
  registerDir: z.string().default('.data/control-ingest'),
  workDir: z.string().default(''),
  controlUrl: z.string().default(''),
  controlToken: z.string().default(''),
});
export type PackagerSettings = z.output<typeof PackagerSettings>;

export function packagerSettings(file: unknown, env: Readonly<Record<string, string | undefined>> = process.env): PackagerSettings {
  return resolveSettings(PackagerSettings, file, env, 'EDGEBOX_PACKAGER_');
}
