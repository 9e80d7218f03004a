// `npm run control [config.json]`: the control service. Settings: the JSON file (argument or
// EDGEBOX_CONTROL_CONFIG), then EDGEBOX_CONTROL_* environment overrides. A bad setting is
// printed with its name and the process exits 2.

import { readFileSync } from 'node:fs';
import { SettingsError } from '../protocol/index.ts';
import { startControl } from './src/server.ts';
import { loadSettings } from './src/settings.ts';
import type { ControlSettings } from './src/settings.ts';

const path = process.argv[2] ?? process.env.EDGEBOX_CONTROL_CONFIG;
let settings: ControlSettings;
try {
  let file: unknown;
  if (path) {
    try {
      file = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new SettingsError(`config file ${path}: ${(err as Error).message}`);
    }
  }
  settings = loadSettings(file, process.env, path ?? 'config file');
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`edgebox control: ${err.message}`);
  process.exit(2);
}

const running = await startControl(settings);
running.control.log.info({ url: running.url }, 'control listening');
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    running.close().then(() => process.exit(0), () => process.exit(1));
  });
}
