// Messages between the daemon's main thread and its serving workers (besides the store's own
// 'store:*' messages, see store/types.ts).

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { HealthView, ServerLimits } from '../http/public-server.ts';

/** What a serving worker is started with (workerData). */
export interface WorkerInit {
  index: number;
  host: string;
  port: number;
  limits: ServerLimits;
  tokenKeys: Record<string, string>;
  maxRanges: number;
  cacheMaxAgeSec: number;
  /** this worker's share of the per-disk-tier read concurrency */
  diskReads: { ssd: number; hdd: number };
}

export type MainToWorker =
  | { type: 'metrics:get'; id: number }
  | { type: 'health'; health: HealthView }
  | { type: 'drain' }
  | { type: 'fault:crash' };

export type WorkerToMain =
  | { type: 'listening' }
  | { type: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: 'stats'; bytesTotal: number; diskErrors: number; connections: number; inFlight: number }
  | { type: 'disk-error'; fileId: string; message: string }
  | { type: 'drained' };

export function isWorkerMessage(m: unknown): m is WorkerToMain {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
