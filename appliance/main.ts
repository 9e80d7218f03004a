// The appliance daemon: `node appliance/main.ts --config <file>` (npm run appliance).
// Settings come from the JSON file and EDGEBOX_* environment variables; a bad value prints a
// message naming the setting and exits with code 2. SIGTERM/SIGINT drain and exit 0.

// must run before anything touches the libuv threadpool, which every serving worker's disk
// reads share (the default of 4 threads would cap the whole box at 4 reads in flight)
import './src/daemon/threadpool.ts';
import { parseArgs } from 'node:util';
import { SettingsError } from '../protocol/index.ts';
import { startDaemon } from './src/daemon/daemon.ts';
import { createLogger } from './src/daemon/logger.ts';
import { DAEMON_SERVICES } from './src/daemon/services.ts';
import { loadSettings } from './src/daemon/settings.ts';

const EXIT_BAD_CONFIG = 2;

async function main(): Promise<void> {
  let configPath: string | undefined;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
    configPath = values.config ?? process.env.EDGEBOX_CONFIG;
  } catch (e) {
    process.stderr.write(`edgebox-appliance: ${(e as Error).message}\nusage: node appliance/main.ts --config <file>\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  let settings;
  try {
    settings = loadSettings(configPath, process.env);
  } catch (e) {
    if (e instanceof SettingsError) {
      process.stderr.write(`edgebox-appliance: ${e.message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw e;
  }
  const log = createLogger(settings.logLevel, settings.applianceId);
  const daemon = await startDaemon(settings, log, DAEMON_SERVICES);
  const onSignal = (sig: string): void => {
    void daemon.drain(sig);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await daemon.done;
  log.info('exit');
  // pino writes synchronously to stdout; nothing else must outlive the drain
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`edgebox-appliance: failed to start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
