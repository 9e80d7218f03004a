// Settings of the store, with their defaults. The daemon maps its config onto these.

import type { Clock } from './clock.ts';
import type { RootConfig } from './roots.ts';
import type { ScoreSettings } from './score.ts';

export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StoreOptions extends Partial<ScoreSettings> {
  /** holds inventory.db */
  stateDir: string;
  roots: RootConfig[];
  /** RAM tier budget for the whole box, bytes (0 = no RAM tier) */
  ramBytes: number;
  /** largest file the RAM tier takes; default ramBytes / 4 */
  ramMaxFileBytes?: number;
  /** minimum score to enter RAM (see score.ts); default 0.2 */
  ramThreshold?: number;
  /** rebalance period; default 10 s */
  rebalanceIntervalMs?: number;
  /** bytes rebalance may copy between SSD and HDD per period; default 256 MiB */
  ioBudgetBytes?: number;
  /** score lead an HDD file needs over an SSD file to swap places; default 0.02 */
  promoteMargin?: number;
  /** free space kept on every filesystem; default 64 MiB */
  reserveBytes?: number;
  /** pin table slots = most files the store can hold; default 262144 (1 MiB of shared memory) */
  maxFiles?: number;
  /** this many read or write errors of the drive's own making (EIO…) on one root within
   *  driveErrorWindowMs take that drive out of service (drive-health.ts); default 10 */
  driveErrorLimit?: number;
  /** default 60 s */
  driveErrorWindowMs?: number;
  clock?: Clock;
  logger?: StoreLogger;
}

export const STORE_DEFAULTS = {
  ramThreshold: 0.2,
  rebalanceIntervalMs: 10_000,
  ioBudgetBytes: 256 * 1024 * 1024,
  promoteMargin: 0.02,
  reserveBytes: 64 * 1024 * 1024,
  maxFiles: 262_144,
  driveErrorLimit: 10,
  driveErrorWindowMs: 60_000,
};

export const silentLogger: StoreLogger = { info() {}, warn() {}, error() {} };
