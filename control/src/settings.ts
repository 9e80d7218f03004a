// Control's settings: one JSON file plus EDGEBOX_CONTROL_* environment overrides, validated at
// start by protocol's resolveSettings. Secrets default to empty: an empty secret either disables
// the API it guards (operator, packager) or is replaced by a random one for this process only
// (URL-token secret, KEK) with a warning, so a dev start works and production must set them.

import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { parsePrefix, resolveSettings } from '../../protocol/index.ts';

export const ENV_PREFIX = 'EDGEBOX_CONTROL_';

const cidr = z.string().refine((s) => parsePrefix(s, true) !== null, 'must be a CIDR prefix');

export const ControlSettings = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** how viewers reach control (licence and HLS playlist URLs); empty = the listen address */
  publicUrl: z.union([z.url(), z.literal('')]).default(''),
  /** the origin store, last in every steering answer */
  originUrl: z.url().default('http://127.0.0.1:8090'),
  /** SQLite file (its directory is created); ":memory:" for tests */
  dbPath: z.string().min(1).default('.data/control/control.db'),
  /**
   * The store: the embedded SQLite file at `dbPath` (one control instance), or a PostgreSQL
   * database shared by several instances (README "Several control instances").
   */
  database: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('sqlite') }),
    z.object({
      kind: z.literal('postgres'),
      /** postgresql://user:password@host:port/db (libpq style; ?host=/socket/dir for a unix socket) */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
      /** connections each instance keeps at most */
      poolSize: z.number().int().min(2).max(1000).default(20),
    }),
  ]).default({ kind: 'sqlite' }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  operatorToken: z.string().default(''),
  packagerToken: z.string().default(''),
  /** enrollment tokens created by config, each bound to a site (operators can also mint them) */
  enrollmentTokens: z.array(z.object({ token: z.string().min(16), siteId: z.string().min(1) })).default([]),
  urlTokenKid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  urlTokenSecret: z.string().refine((s) => s === '' || s.length >= 16, 'at least 16 characters').default(''),
  urlTokenTtlSec: z.number().int().positive().default(6 * 3600),
  /** a rotated URL-token key is published this long before control signs with it, so reporting appliances hold it first */
  urlTokenKeyLeadMs: z.number().int().min(0).default(60_000),
  /** a retired URL-token key stays published this long past its last token's expiry (appliance clocks behind control's) */
  urlTokenKeySkewMs: z.number().int().min(0).default(60_000),
  /** bind URL tokens to the viewer's /24 (IPv4) or /56 (IPv6); off by default (mobile handover) */
  tokenClientBinding: z.boolean().default(false),
  /** key-encryption key for title keys at rest: 64 hex digits (AES-256) */
  kek: z.string().regex(/^([0-9a-fA-F]{64})?$/, 'must be 64 hex digits').default(''),
  reportIntervalMs: z.number().int().positive().default(10_000),
  staleIntervals: z.number().int().positive().default(3),
  /** egress/capacity at or above which a healthy appliance becomes overloaded… */
  overloadEnter: z.number().gt(0).max(1).default(0.9),
  /** …and below which an overloaded one is healthy again (hysteresis) */
  overloadLeave: z.number().gt(0).max(1).default(0.75),
  topK: z.number().int().min(1).max(16).default(3),
  /** how many appliances of the region's IX tier follow the local ones */
  fallbackK: z.number().int().min(0).max(8).default(1),
  sessionTtlMs: z.number().int().positive().default(180_000),
  /** ended or lapsed playback sessions (and spent or expired enrollment tokens) are deleted after this long */
  sessionRetentionMs: z.number().int().positive().default(7 * 86_400_000),
  /** how often the housekeeping job prunes the store and sweeps steering's throughput estimates; 0 = never */
  housekeepingIntervalMs: z.number().int().min(0).default(10 * 60_000),

  // Steering by measured throughput (src/steering/throughput.ts).
  /** a (client prefix, appliance) estimate halves its weight after this long without heartbeats */
  throughputHalfLifeMs: z.number().int().positive().default(30 * 60_000),
  /** a (client prefix, appliance) throughput class changes at most once per this long */
  throughputDwellMs: z.number().int().min(0).default(5 * 60_000),
  /** delivered kb/s at or above which an appliance serves a prefix well */
  throughputGoodKbps: z.number().positive().default(3_000),
  /** observed play time an estimate needs before it ranks anything */
  throughputMinEvidenceMs: z.number().int().min(0).default(60_000),
  /** X-Forwarded-For is believed only from these peers */
  trustedProxies: z.array(cidr).default([]),
  /** directory the packager drops `*.title.json` into; empty disables ingest */
  ingestDir: z.string().default(''),
  ingestIntervalMs: z.number().int().positive().default(60_000),
  enrollmentTokenTtlSec: z.number().int().positive().default(7 * 86400),

  // Fill (src/fill/, README "Fill").
  /** node-cron expression for the fill planner (it also runs at start and on POST /v1/fill/plan); empty = no schedule */
  fillPlanSchedule: z.string().refine((s) => s === '' || validCron(s), 'not a cron expression').default('0 * * * *'),
  /** popularity smoothing: a view counts half after this many days */
  popularityHalfLifeDays: z.number().positive().max(365).default(7),
  /** share of each disk tier the planner leaves free */
  fillHeadroom: z.number().min(0).max(0.5).default(0.1),
  /** per plan, the bytes an appliance is asked to add (files it does not hold) are at most this share of its store */
  fillChurnFraction: z.number().gt(0).max(1).default(0.1),
  /** an appliance silent for this long is left out of plans (its files are placed elsewhere) */
  fillDropAfterMs: z.number().int().positive().default(24 * 3600_000),
  /** default fill download rate per appliance, bits/s (a site can override it); 0 = no limit */
  fillRateBps: z.number().min(0).default(1.2e9),
  /** default rate at which an appliance serves its peers, bits/s (a site can override it); 0 = no limit */
  peerServeRateBps: z.number().min(0).default(0),
  /** escalation: how long an appliance tries peers for one file before the IX tier, and the tier before the origin */
  fillPeerMs: z.number().int().min(0).default(60_000),
  fillTierMs: z.number().int().min(0).default(120_000),
  /** whether fill manifests allow the origin at all */
  fillAllowOrigin: z.boolean().default(true),
  /** a source that delivered a bad copy of a file (size or sha256) is left out of that file's sources this long */
  badSourceTtlMs: z.number().int().min(0).default(6 * 3600_000),
  /** a manifest whose only change is peers' inventory or health is rebuilt at most this often */
  fillSourcesRefreshMs: z.number().int().min(0).default(10_000),
  /** peer tokens in fill manifests live this long (re-issued at half-life) */
  peerTokenTtlSec: z.number().int().min(60).default(24 * 3600),
  /** Ed25519 peer-token signing key {kid, x, d}; absent = generated once and kept in the database */
  peerSigningKey: z.object({
    kid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/), d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  }).optional(),
}).refine((s) => s.overloadLeave < s.overloadEnter, { message: 'overloadLeave must be below overloadEnter', path: ['overloadLeave'] });
export type ControlSettings = z.output<typeof ControlSettings>;

export function loadSettings(file: unknown, env: Readonly<Record<string, string | undefined>>, source?: string): ControlSettings {
  return resolveSettings(ControlSettings, file, env, ENV_PREFIX, source);
}
