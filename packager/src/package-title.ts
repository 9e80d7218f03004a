// The packager as a function: master → probe → per-title ladder → encodes → CMAF + CENC →
// QA → content manifest → publish to origin and control. The CLI is a thin shell around it.

import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isTitleId, type ContentKey, type ContentManifest } from '../../protocol/index.ts';
import { probeMaster, type MasterInfo } from './ingest.ts';
import { chooseMetric, measureQuality } from './quality.ts';
import { decideLadder, type LadderDecision } from './ladder.ts';
import { encodeRenditions, type EncodedStream } from './encode.ts';
import { makeKeys, type RandomBytes } from './keys.ts';
import { packageCmaf } from './shaka.ts';
import { buildContentManifest } from './content-manifest.ts';
import { runQa, type QaReport } from './qa-gate.ts';
import { jobLimit } from './pool.ts';
import { StageClock, type StageTiming } from './stage-clock.ts';
import { publishToOrigin, registerTitle, type Registration } from './publish.ts';
import { Progress, type ProgressEvent } from './progress.ts';
import type { Rung } from './hull.ts';
import type { PackagerSettings } from './settings.ts';

export class QaError extends Error {
  reasons: string[];
  constructor(reasons: string[]) {
    super(`QA failed, nothing published: ${reasons.join('; ')}`);
    this.name = 'QaError';
    this.reasons = reasons;
  }
}

export interface PackageOptions {
  master: string;
  titleId: string;
  name?: string;
  regions?: string[];
  settings: PackagerSettings;
  /** where the packaged files, manifests, ladder.json and qa.json are written */
  outDir?: string;
  /** skip the per-title analysis and encode these rungs (fixed-ladder comparisons, quick runs) */
  rungs?: Rung[];
  /** package and check, but publish nothing */
  dryRun?: boolean;
  random?: RandomBytes;
  now?: () => Date;
  /** called with the packaged files before QA: lets tests inject a damaged output */
  afterPackage?: (files: Record<string, string>) => Promise<void>;
  onProgress?: (e: ProgressEvent) => void;
}

export type { QaReport } from './qa-gate.ts';

export interface PackageResult {
  titleId: string;
  master: MasterInfo;
  ladder: LadderDecision | { metric: string; rungs: Rung[]; fixed: true };
  qa: QaReport;
  manifest: ContentManifest;
  outDir: string;
  published: string[];
  registration?: Registration;
  /** wall time and CPU (this process and its children) per stage */
  timings: Record<string, StageTiming>;
}

const WEIGHTS = { probe: 1, ladder: 30, encode: 40, package: 4, qa: 22, publish: 3 };

export async function packageTitle(o: PackageOptions): Promise<PackageResult & { keys: ContentKey[] }> {
  if (!isTitleId(o.titleId)) throw new Error(`invalid title id ${JSON.stringify(o.titleId)} (lower-case letters, digits, '-')`);
  const s = o.settings;
  const progress = new Progress(WEIGHTS, o.onProgress ?? (() => {}));
  const clock = new StageClock();
  const stage = (name: string) => {
    clock.start(name);
    return progress.stage(name);
  };
  const limit = jobLimit(s.jobs);
  const outDir = resolve(o.outDir ?? join('.data', 'packager', o.titleId));
  const work = s.workDir ? resolve(s.workDir, o.titleId) : await mkdtemp(join(tmpdir(), `edgebox-pkg-${o.titleId}-`));
  await mkdir(work, { recursive: true });
  try {
    const probeP = stage('probe');
    const info = await probeMaster(resolve(o.master), s.minDurationS);
    probeP(1, `${info.video.width}x${info.video.height} ${info.video.fps.toFixed(3)} fps, ${info.durationS.toFixed(1)} s, ${info.audio.length} audio`);

    const q = await chooseMetric(s.vmafModelPath, s.vmafSubsample);
    const ladderP = stage('ladder');
    const ladder: PackageResult['ladder'] = o.rungs
      ? { metric: q.metric, rungs: o.rungs, fixed: true }
      : await decideLadder(info, s, q, work, ladderP, { limit });
    ladderP(1, `${ladder.rungs.length} rungs by ${q.metric}: ${ladder.rungs.map((r) => `${r.height}p@${Math.round(r.bitrate / 1000)}k`).join(' ')}`);

    const encodeP = stage('encode');
    const streams = await encodeRenditions(info, ladder.rungs, {
      dir: work, preset: s.encodePreset, keyframeS: s.keyframeIntervalS, audioBitrateKbps: s.audioBitrateKbps, onProgress: encodeP,
      processes: s.encodeProcesses, limit, qaReference: { path: join(work, 'qa-reference.mkv'), q, subsample: s.qaVmafSubsample },
    });

    const packageP = stage('package');
    const keys = makeKeys(streams.map((x) => x.keyLabel), o.random);
    const keyOf = (x: EncodedStream): ContentKey => keys.find((k) => k.label === x.keyLabel)!;
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const out = await packageCmaf(o.titleId, streams, keys, { dir: outDir, segmentS: s.keyframeIntervalS });
    packageP(1);
    await o.afterPackage?.(out.files);

    const qaP = stage('qa');
    const draft = await buildContentManifest(o.titleId, info.durationS, out, {}, o.now);
    const qa = await runQa({
      titleId: o.titleId, info, streams, out, draft, keyOf, q, qaVmafSubsample: s.qaVmafSubsample, work, limit, reference: streams.qaReference, onProgress: qaP,
    });
    qaP(1, qa.passed ? 'QA passed' : `QA failed: ${qa.reasons.join('; ')}`);

    const quality: Record<string, number> = {};
    for (const [id, e] of Object.entries(qa.files)) if (e.quality !== undefined) quality[id] = e.quality;
    const manifest = await buildContentManifest(o.titleId, info.durationS, out, quality, o.now);
    // The decision and every measurement, beside the output (no keys in either file).
    await writeFile(join(outDir, `${o.titleId}.ladder.json`), JSON.stringify({ master: info, ladder }, null, 2));
    await writeFile(join(outDir, `${o.titleId}.qa.json`), JSON.stringify(qa, null, 2));
    await writeFile(join(outDir, `${o.titleId}.manifest.json`), JSON.stringify(manifest, null, 2));
    if (!qa.passed) throw new QaError(qa.reasons);

    const publishP = stage('publish');
    const result: PackageResult = { titleId: o.titleId, master: info, ladder, qa, manifest, outDir, published: [], timings: clock.timings };
    if (!o.dryRun) {
      result.published = await publishToOrigin(resolve(s.originStore), manifest, out.files);
      try {
        result.registration = await registerTitle(
          { title: { titleId: o.titleId, name: o.name ?? o.titleId, regions: o.regions ?? [] }, manifest, keys },
          { controlUrl: s.controlUrl || undefined, controlToken: s.controlToken || undefined, registerDir: resolve(s.registerDir) },
        );
      } catch (e) {
        // Files control does not know about would only take origin space: take them back.
        await Promise.all(result.published.map((p) => unlink(p).catch(() => {})));
        throw e;
      }
    }
    publishP(1, o.dryRun ? 'dry run: nothing published' : `published ${result.published.length} files`);
    clock.stop();
    return { ...result, keys };
  } finally {
    if (!s.workDir) await rm(work, { recursive: true, force: true });
  }
}
