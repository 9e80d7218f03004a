// One packaged title for the tests that inspect its artefacts: a synthetic master with two audio
// languages is packaged through the CLI (--json) with a small per-title ladder, published into a
// temp origin store and written as a title record into a temp ingest directory.

import { Parser as M3u8Parser } from 'm3u8-parser';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TitleRecord, type ContentManifest } from '../../../protocol/index.ts';
import { makeMaster, tempDir, VMAF_MODEL } from './masters.ts';
import { runNode } from './processes.ts';

export interface Packaged {
  titleId: string;
  dir: string;
  store: string;
  reg: string;
  out: string;
  work: string;
  cli: { code: number; stdout: string; stderr: string };
  manifest: ContentManifest;
  record: TitleRecord;
  cleanup: () => Promise<void>;
}

export async function packagedTitle(titleId: string): Promise<Packaged> {
  const tmp = await tempDir(titleId);
  const [store, reg, out, work] = ['origin', 'ingest', 'out', 'work'].map((d) => join(tmp.dir, d));
  const master = await makeMaster(tmp.dir, 'master.mp4', { kind: 'flat', width: 640, height: 360, durationS: 6, languages: ['eng', 'fra'] });
  const config = join(tmp.dir, 'packager.json');
  await writeFile(config, JSON.stringify({
    sampleShots: 2, shotSeconds: 1.5, trialBpp: [0.03, 0.1], vmafSubsample: 5, trialPreset: 'ultrafast', encodePreset: 'veryfast', maxRungs: 3, workDir: work,
  }));
  const cli = await runNode(['packager/cli.ts', master, '--title', titleId, '--name', 'End to end', '--json', '--config', config,
    '--out', out, '--origin-store', store, '--register-dir', reg, '--vmaf-model', VMAF_MODEL]);
  if (cli.code !== 0) {
    await tmp.cleanup();
    throw new Error(`package failed (${cli.code}): ${cli.stdout} ${cli.stderr.slice(-2000)}`);
  }
  const manifest = JSON.parse(await readFile(join(store, 'manifests', `${titleId}.json`), 'utf8')) as ContentManifest;
  const record = TitleRecord.parse(JSON.parse(await readFile(join(reg, `${titleId}.title.json`), 'utf8')));
  return { titleId, dir: tmp.dir, store, reg, out, work, cli, manifest, record, cleanup: tmp.cleanup };
}

/** An HLS playlist as m3u8-parser reads it (its typings say `any`). */
export function parseM3u8(text: string): any {
  const parser = new M3u8Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}
