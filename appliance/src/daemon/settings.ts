// The appliance daemon's settings: one JSON file (`--config`) plus EDGEBOX_* environment
// overrides, resolved by protocol's resolveSettings. Every setting has a default; "auto" values
// are filled in from the hardware probe (probe.ts). A bad value throws a SettingsError naming it.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { resolveSettings, SettingsError } from '../../../protocol/index.ts';
import { BgpSettings } from '../bgp/settings.ts';
import { FillSettings } from '../fill/settings.ts';
import { ReporterSettings } from '../report/settings.ts';

export const ENV_PREFIX = 'EDGEBOX_';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port" (IPv6 in brackets)')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be 0..65535');

const auto = z.literal('auto');
const positiveInt = z.number().int().positive();

/** HTTPS on the public port (appliance/src/http/tls/) */
const TlsSettings = z
  .object({
    /** off: plain HTTP only; beside: plain HTTP on `listen` and HTTPS on `tls.listen`; only: HTTPS on `listen` */
    mode: z.enum(['off', 'beside', 'only']).default('off'),
    /** the HTTPS address in `beside` mode */
    listen: hostPort.default('0.0.0.0:8443'),
    /** PEM certificate (leaf, then chain) and its key, reloaded when they change; a certificate
     *  control hands over (kept in stateDir/tls/) takes precedence */
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
    /** the hostname viewers use, which the certificate must name; '' = the host of report.publicUrl */
    hostname: z.string().max(253).default(''),
    /** where viewers reach the box over HTTPS, reported to control for its manifests;
     *  '' = https://<hostname>:<HTTPS port> */
    publicUrl: z.union([z.literal(''), z.url().refine((u) => u.startsWith('https://'), 'must be an https:// URL')]).default(''),
    /** health turns degraded this many days before the certificate expires */
    expiryWarningDays: z.number().int().min(0).default(14),
    /** session-ticket keys: a new one this often; the previous one still resumes until the next */
    ticketKeyRotateMs: positiveInt.default(3_600_000),
    /** how often the certificate files are checked for changes */
    reloadCheckMs: positiveInt.default(2_000),
  })
  .strict();

export const ApplianceSettings = z.object({
  /** this appliance's id, as control knows it */
  applianceId: z.string().min(1).max(64).default('edgebox-1'),
  /** public serving address; port 0 picks a free port (logged in the "ready" line) */
  listen: hostPort.default('0.0.0.0:8080'),
  /** HTTPS beside or instead of plain HTTP on the public port (see TlsSettings) */
  tls: TlsSettings.prefault({}),
  /** admin/observability address: /metrics, /v1/health, /v1/status, /v1/admin/* */
  adminListen: hostPort.default('127.0.0.1:8081'),
  /** Bearer token for /v1/admin/*; empty disables the admin actions (they answer 403) */
  adminToken: z.string().default(''),
  /** URL-token keys: key id → HMAC secret (at least 16 characters) */
  tokenKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'key id must be 1-32 of [A-Za-z0-9_-]'),
    z.string().min(16, 'token secret must be at least 16 characters')).default({}),
  /** control plane base URL (used by the reporter and fill); empty = no reporting */
  controlUrl: z.union([z.literal(''), z.url()]).default(''),
  /** BGP speaker (appliance/src/bgp/settings.ts); no neighbors = no BGP */
  bgp: BgpSettings.prefault({}),
  /** control reporter (appliance/src/report/settings.ts) */
  report: ReporterSettings.prefault({}),
  /** control unreachable this long: viewers are refused (503 control_unreachable) until it answers
   *  again; 0 = never. Default 6 h, control's default urlTokenTtlSec: by then every token control
   *  issued before it went away has expired, so no session can still rely on this box */
  controlAwayMaxMs: z.number().int().min(0).default(6 * 3_600_000),
  /** fill from peers, the IX tier and the origin (appliance/src/fill/settings.ts); needs controlUrl */
  fill: FillSettings.prefault({}),
  /** store roots; "auto" asks the probe whether the disk under the path is rotational */
  storage: z
    .array(z.object({
      path: z.string().min(1),
      type: z.enum(['ssd', 'hdd', 'auto']).default('auto'),
      /** cap on what the store keeps under this root (default: the filesystem's size) */
      maxBytes: z.number().int().positive().optional(),
    }))
    .min(1)
    .default([{ path: 'data/store', type: 'auto' }]),
  /** store tuning passed to the store as is (see store/options.ts for meanings and defaults) */
  storeTuning: z
    .object({
      ramThreshold: z.number().min(0).max(1).optional(),
      ramMaxFileBytes: z.number().int().positive().optional(),
      rebalanceIntervalMs: positiveInt.optional(),
      ioBudgetBytes: z.number().int().min(0).optional(),
      promoteMargin: z.number().min(0).max(1).optional(),
      reserveBytes: z.number().int().min(0).optional(),
      maxFiles: z.number().int().positive().optional(),
      driveErrorLimit: positiveInt.optional(),
      driveErrorWindowMs: positiveInt.optional(),
    })
    .strict()
    .default({}),
  /** where the inventory database lives */
  stateDir: z.string().min(1).default('data/state'),
  /** RAM tier budget in bytes for the whole box (shared by all workers); auto = 25% of memory */
  ramTierBytes: z.union([auto, z.number().int().min(0)]).default('auto'),
  /** serving worker threads; auto = one per core */
  workers: z.union([auto, z.number().int().min(1).max(256)]).default('auto'),
  /** concurrent reads per disk; auto = 64 on SSD, 4 on HDD */
  diskConcurrency: z.union([auto, positiveInt]).default('auto'),
  /** advertised egress capacity in bits/s; auto = sum of the NICs' link speeds */
  capacityBps: z.union([auto, z.number().min(0)]).default('auto'),
  /** what the CPU load in health and reports measures: the whole box, or this daemon's own share
   *  of all cores (for a machine shared with other work: the dev site, tests) */
  loadCpu: z.enum(['box', 'process']).default('box'),
  /** Cache-Control max-age for served files, seconds */
  cacheMaxAgeSec: z.number().int().min(0).default(86_400),
  /** most ranges answered as multipart/byteranges; more and the Range header is ignored (200) */
  maxRanges: z.number().int().min(1).max(64).default(16),
  // protection
  headersTimeoutMs: positiveInt.default(10_000),
  requestTimeoutMs: positiveInt.default(30_000),
  keepAliveTimeoutMs: positiveInt.default(5_000),
  maxRequestsPerSocket: z.number().int().min(0).default(1_000),
  /** connections for the whole box (split across workers) */
  maxConnections: positiveInt.default(20_000),
  maxHeaderSize: z.number().int().min(1024).max(65_536).default(8_192),
  /** how long a drain waits for in-flight responses before exiting anyway */
  drainTimeoutMs: positiveInt.default(30_000),
  /** restart backoff for crashed workers: first delay, doubling up to the max */
  workerRestartMinMs: positiveInt.default(100),
  workerRestartMaxMs: positiveInt.default(10_000),
  /** a serving socket with no traffic either way for this long is closed */
  socketIdleTimeoutMs: positiveInt.default(60_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** TESTS ONLY: enables POST /v1/admin/fault/crash-worker (kills a serving worker) */
  faultInjection: z.boolean().default(false),
});
export type ApplianceSettings = z.output<typeof ApplianceSettings>;

export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  let host = s.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(s.slice(i + 1)) };
}

/**
 * Load settings from an optional JSON file and the environment. Relative paths in the file are
 * taken relative to the file's directory, so a config works from any working directory.
 */
export function loadSettings(
  configPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ApplianceSettings {
  let file: unknown;
  let base = process.cwd();
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      throw new SettingsError(`config file ${configPath}: ${(e as Error).message}`);
    }
    try {
      file = JSON.parse(text);
    } catch (e) {
      throw new SettingsError(`config file ${configPath}: not valid JSON (${(e as Error).message})`);
    }
    base = dirname(resolve(configPath));
  }
  const s = resolveSettings(ApplianceSettings, file, env, ENV_PREFIX, configPath ?? 'defaults');
  if (s.workerRestartMaxMs < s.workerRestartMinMs) {
    throw new SettingsError('setting "workerRestartMaxMs": must be at least workerRestartMinMs');
  }
  if ((s.tls.certFile === '') !== (s.tls.keyFile === '')) {
    throw new SettingsError('setting "tls": certFile and keyFile go together');
  }
  const inBase = (f: string) => (f === '' ? f : resolve(base, f));
  return {
    ...s,
    tls: { ...s.tls, certFile: inBase(s.tls.certFile), keyFile: inBase(s.tls.keyFile) },
    stateDir: resolve(base, s.stateDir),
    storage: s.storage.map((r) => ({ ...r, path: resolve(base, r.path) })),
  };
}
