// Control's settings: one JSON file plus EDGEBOX_CONTROL_* environment overrides, validated at
// start by protocol's resolveSettings. Secrets default to empty: an empty secret either disables
// the API it guards (operator, packager) or is replaced by a random one for this process only
// (URL-token secret, KEK) with a warning, so a dev start works and production must set them.

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
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  operatorToken: z.string().default(''),
  packagerToken: z.string().default(''),
  /** enrollment tokens created by config, each bound to a site (operators can also mint them) */
  enrollmentTokens: z.array(z.object({ token: z.string().min(16), siteId: z.string().min(1) })).default([]),
  urlTokenKid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  urlTokenSecret: z.string().refine((s) => s === '' || s.length >= 16, 'at least 16 characters').default(''),
  urlTokenTtlSec: z.number().int().positive().default(6 * 3600),
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
  /** X-Forwarded-For is believed only from these peers */
  trustedProxies: z.array(cidr).default([]),
  /** directory the packager drops `*.title.json` into; empty disables ingest */
  ingestDir: z.string().default(''),
  ingestIntervalMs: z.number().int().positive().default(60_000),
  enrollmentTokenTtlSec: z.number().int().positive().default(7 * 86400),
}).refine((s) => s.overloadLeave < s.overloadEnter, { message: 'overloadLeave must be below overloadEnter', path: ['overloadLeave'] });
export type ControlSettings = z.output<typeof ControlSettings>;

export function loadSettings(file: unknown, env: Readonly<Record<string, string | undefined>>, source?: string): ControlSettings {
  return resolveSettings(ControlSettings, file, env, ENV_PREFIX, source);
}
