// npm run package -- <master> --title <id> [options]
// Packages one studio master and publishes it. Progress (percent + ETA) goes to stderr; with
// --json, progress lines are JSON and the result is one JSON document on stdout.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ErrorCode, errorBody, SettingsError } from '../protocol/index.ts';
import { packagerSettings } from './src/settings.ts';
import { packageTitle, QaError } from './src/package-title.ts';
import { IngestError } from './src/ingest.ts';
import type { ProgressEvent } from './src/progress.ts';

const USAGE = `usage: npm run package -- <master> --title <id> [options]
  --name <text>            display name (default: the title id)
  --regions <a,b>          regions where it may play (default: everywhere)
  --config <file.json>     packager settings (env EDGEBOX_PACKAGER_<SETTING> overrides)
  --out <dir>              packaged output, ladder.json, qa.json (default .data/packager/<id>)
  --origin-store <dir>     origin store to publish into (default .data/origin)
  --control <url>          register with control: POST <url>/v1/titles
  --control-token <token>  packager token for control
  --register-dir <dir>     without --control: write <id>.title.json here (default .data/control-ingest)
  --vmaf-model <path>      libvmaf model (.pkl with .pkl.model beside it); none → SSIM
  --keyframe <2|4>         keyframe interval, seconds
  --dry-run                package and QA, publish nothing
  --json                   machine-readable output`;

function fmtEta(s: number | undefined): string {
  if (s === undefined) return '';
  const m = Math.floor(s / 60);
  return ` ETA ${m ? `${m}m` : ''}${String(s % 60).padStart(m ? 2 : 1, '0')}s`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      title: { type: 'string' }, name: { type: 'string' }, regions: { type: 'string' }, config: { type: 'string' },
      out: { type: 'string' }, 'origin-store': { type: 'string' }, control: { type: 'string' }, 'control-token': { type: 'string' },
      'register-dir': { type: 'string' }, 'vmaf-model': { type: 'string' }, keyframe: { type: 'string' },
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const json = !!values.json;
  const fail = (code: ErrorCode, message: string, exit: number): number => {
    if (json) process.stdout.write(`${JSON.stringify(errorBody(code, message))}\n`);
    else process.stderr.write(`package: ${message}\n`);
    return exit;
  };
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || !values.title) return fail('usage', `one master and --title are required\n${USAGE}`, 2);

  let settings;
  try {
    const file = values.config ? JSON.parse(readFileSync(values.config, 'utf8')) : undefined;
    const overrides: Record<string, unknown> = {};
    if (values['origin-store']) overrides.originStore = values['origin-store'];
    if (values['register-dir']) overrides.registerDir = values['register-dir'];
    if (values.control) overrides.controlUrl = values.control;
    if (values['control-token']) overrides.controlToken = values['control-token'];
    if (values['vmaf-model']) overrides.vmafModelPath = values['vmaf-model'];
    if (values.keyframe) overrides.keyframeIntervalS = Number(values.keyframe);
    settings = packagerSettings({ ...(file ?? {}), ...overrides });
  } catch (e) {
    return fail('bad_settings', e instanceof SettingsError ? e.message : `--config: ${(e as Error).message}`, 2);
  }

  const onProgress = (e: ProgressEvent): void => {
    if (json) process.stderr.write(`${JSON.stringify({ progress: e })}\n`);
    else process.stderr.write(`[${e.percent.toFixed(1).padStart(5)}%] ${e.stage.padEnd(7)}${fmtEta(e.etaS)}${e.message ? `  ${e.message}` : ''}\n`);
  };
  try {
    const { keys: _keys, ...result } = await packageTitle({
      master: positionals[0], titleId: values.title, name: values.name,
      regions: values.regions ? values.regions.split(',').filter(Boolean) : [],
      settings, outDir: values.out, dryRun: values['dry-run'], onProgress,
    });
    if (json) process.stdout.write(`${JSON.stringify({ ...result, manifest: { ...result.manifest, templates: undefined } })}\n`);
    else {
      for (const f of result.manifest.files) {
        const q = f.quality !== undefined ? ` ${result.qa.metric} ${f.quality.toFixed(1)}` : '';
        process.stdout.write(`${f.fileId.padEnd(24)} ${f.kind.padEnd(5)} ${String(Math.round(f.bandwidth / 1000)).padStart(6)} kb/s ${f.width ? `${f.width}x${f.height}` : (f.language ?? '')}${q}\n`);
      }
      process.stdout.write(`ladder decision: ${result.outDir}/${result.titleId}.ladder.json\n`);
      if (result.registration) process.stdout.write(`registered via ${result.registration.via}: ${result.registration.where}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof IngestError) return fail('bad_master', e.message, 2);
    if (e instanceof QaError) return fail('qa_failed', e.message, 3);
    return fail('failed', (e as Error).message, 1);
  }
}

process.exitCode = await main(process.argv.slice(2));
