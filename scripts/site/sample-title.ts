// The site's sample title, made on the first run and reused after: a master generated with the
// packager's ffmpeg (a moving test pattern with two audio languages), packaged by the real
// packager (per-title ladder, CMAF + CENC, DASH + HLS, QA) into the site's origin store, its title
// record (manifest and keys) kept beside it so control can be told again if it forgot.
//
// EDGEBOX_SITE_SAMPLE=quick makes a 12 s 360p master and a two-rung ladder instead of 30 s at
// 720p (the site test uses it); the cache is per variant.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegJob } from '../../packager/src/ff.ts';
import { packageTitle } from '../../packager/src/package-title.ts';
import { packagerSettings, type PackagerSettings } from '../../packager/src/settings.ts';
import { TitleRecord } from '../../protocol/index.ts';
import { progressBar } from './progress-bar.ts';
import type { SiteState } from './state.ts';
import { vmafModelIfPresent } from '../../packager/src/vmaf-model.ts';

export const SAMPLE_TITLE_ID = 'sample';

export interface SampleSpec {
  variant: 'full' | 'quick';
  seconds: number;
  width: number;
  height: number;
  fps: number;
  languages: string[];
  /** packager settings over its defaults: a smaller analysis than a studio title gets */
  packager: Partial<PackagerSettings>;
}

/** bumped when what the site makes of the sample changes, so old caches are remade */
const FORMAT = 1;

const SPECS: Record<SampleSpec['variant'], SampleSpec> = {
  full: {
    variant: 'full', seconds: 30, width: 1280, height: 720, fps: 25, languages: ['eng', 'fra'],
    // less than the packager's defaults for a studio title (2 × 2 s trial shots, 2 rates per
    // resolution, 3 rungs 15 quality points apart, ultrafast trials, superfast encodes): the
    // sample's first run is mostly the packager's work
    packager: { sampleShots: 2, shotSeconds: 2, trialBpp: [0.02, 0.1], qualityStep: 15, trialPreset: 'ultrafast', encodePreset: 'superfast', maxRungs: 3 },
  },
  quick: {
    variant: 'quick', seconds: 12, width: 640, height: 360, fps: 25, languages: ['eng', 'fra'],
    packager: { sampleShots: 1, shotSeconds: 2, trialBpp: [0.05, 0.2], trialPreset: 'ultrafast', encodePreset: 'ultrafast', maxRungs: 2 },
  },
};

export function sampleSpec(env: NodeJS.ProcessEnv = process.env): SampleSpec {
  const v = env.EDGEBOX_SITE_SAMPLE || 'full';
  if (v !== 'full' && v !== 'quick') throw new Error(`EDGEBOX_SITE_SAMPLE must be "full" or "quick", not ${JSON.stringify(v)}`);
  return SPECS[v];
}


export interface SampleTitle {
  record: TitleRecord;
  /** true when this run packaged it; false when the cached one was good */
  made: boolean;
  summary: string;
}

/** The packaged sample: from the cache when its files are all in the origin store, else made now. */
export async function ensureSampleTitle(state: SiteState, spec: SampleSpec): Promise<SampleTitle> {
  const dir = state.path('sample', spec.variant);
  const key = JSON.stringify({ FORMAT, spec });
  const recordPath = join(dir, `${SAMPLE_TITLE_ID}.title.json`);
  const cached = state.readJson<{ key: string; summary: string }>(join('sample', spec.variant, 'made.json'));
  if (cached?.key === key && existsSync(recordPath)) {
    const record = TitleRecord.parse(JSON.parse(readFileSync(recordPath, 'utf8')));
    const present = record.manifest.files.every((f) => {
      const p = join(state.originStore, f.fileId);
      return existsSync(p) && statSync(p).size === f.bytes;
    });
    if (present) return { record, made: false, summary: cached.summary };
  }

  const master = join(dir, 'master.mp4');
  await rm(master, { force: true });
  const mk = progressBar(`site: making the sample master (${spec.seconds} s ${spec.height}p, audio ${spec.languages.join('+')})`);
  await ffmpegJob({
    inputs: [
      // a moving test pattern; one tone per language so the tracks differ
      { path: `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`, options: ['-f', 'lavfi', '-t', String(spec.seconds)] },
      ...spec.languages.map((_, i) => ({ path: `sine=frequency=${330 + 110 * i}:duration=${spec.seconds}`, options: ['-f', 'lavfi'] })),
    ],
    output: master,
    outputOptions: [
      '-map', '0:v', ...spec.languages.flatMap((_, i) => ['-map', `${i + 1}:a`]),
      '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16',
      '-c:a', 'aac', '-b:a', '128k',
      ...spec.languages.flatMap((l, i) => [`-metadata:s:a:${i}`, `language=${l}`]),
      '-movflags', '+faststart',
    ],
    durationS: spec.seconds,
    onProgress: (f) => mk.update(f * 100),
  });
  mk.done(master);

  // the shared model if it is there (EDGEBOX_PACKAGER_VMAF_MODEL_PATH or ../shared/vmaf); else SSIM
  const model = vmafModelIfPresent();
  const settings = packagerSettings({
    ...spec.packager,
    vmafModelPath: model,
    originStore: state.originStore,
    // the title record (manifest and keys) goes to a file here; the site registers it with control
    registerDir: dir,
    controlUrl: '',
    workDir: join(dir, 'work'),
  });
  const vmaf = settings.vmafModelPath !== '' && existsSync(settings.vmafModelPath);
  const bar = progressBar(`site: packaging (${vmaf ? 'VMAF' : 'SSIM: no VMAF model at ../shared/vmaf'})`);
  let stage = '';
  const result = await packageTitle({
    master,
    titleId: SAMPLE_TITLE_ID,
    name: `Test pattern (${spec.seconds} s, ${spec.languages.join('/')})`,
    settings,
    outDir: join(dir, 'package'),
    onProgress: (e) => {
      if (e.message) stage = `${e.stage}: ${e.message}`;
      bar.update(e.percent, stage || e.stage);
    },
  }).finally(() => rm(join(dir, 'work'), { recursive: true, force: true }));
  const rungs = result.ladder.rungs.map((r) => `${r.height}p@${Math.round(r.bitrate / 1000)}k`).join(' ');
  const summary = `${result.manifest.files.length} files (${rungs}; audio ${spec.languages.join('+')}), ${result.qa.metric.toUpperCase()}`;
  bar.done(summary);
  state.writeJson(join('sample', spec.variant, 'made.json'), { key, summary, madeAt: new Date().toISOString() });
  return { record: TitleRecord.parse(JSON.parse(readFileSync(recordPath, 'utf8'))), made: true, summary };
}
