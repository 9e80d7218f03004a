// npm run origin — serves the origin store over HTTP with Range support.
// Settings: --config <file.json> (or EDGEBOX_ORIGIN_CONFIG), overridden by EDGEBOX_ORIGIN_<SETTING>.

import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { resolveSettings, SettingsError } from '../protocol/index.ts';
import { buildOrigin } from './src/origin-server.ts';

const OriginSettings = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8090),
  store: z.string().default('.data/origin'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** URL-token keys shared with control (kid → secret); empty: path-form tokens are not checked */
  urlTokenKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.string().min(16)).default({}),
  /** control's peer-token public keys (kid → x, GET /v1/fill/peer-keys); with urlTokenKeys, /v1/f needs a peer or URL token */
  peerPublicKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key, base64url')).default({}),
});

const log = pino({ name: 'origin' });
const { values } = parseArgs({ options: { config: { type: 'string' } } });
const configPath = values.config ?? process.env.EDGEBOX_ORIGIN_CONFIG;
let settings: z.output<typeof OriginSettings>;
try {
  const file = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
  settings = resolveSettings(OriginSettings, file, process.env, 'EDGEBOX_ORIGIN_', configPath ?? 'config file');
} catch (e) {
  log.fatal({ err: e }, e instanceof SettingsError ? e.message : `config: ${(e as Error).message}`);
  process.exit(2);
}
log.level = settings.logLevel;
mkdirSync(settings.store, { recursive: true });
const app = await buildOrigin({ store: settings.store, logger: log, urlTokenKeys: settings.urlTokenKeys, peerPublicKeys: settings.peerPublicKeys });
const address = await app.listen({ host: settings.host, port: settings.port });
log.info({ address, store: settings.store }, 'origin listening');
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void app.close().then(() => process.exit(0));
  });
}
