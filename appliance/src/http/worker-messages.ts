// Messages between the daemon's main thread and its serving workers (besides the store's own
// 'store:*' messages, see store/types.ts). They live here, with the workers that speak them, so
// the serving side never imports daemon/ (folder order: scripts/test/import-boundaries.test.ts).

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ErrorCode } from '../../../protocol/index.ts';
import type { HealthView, ServerLimits } from './public-server.ts';
import type { FileEntry } from '../store/types.ts';
import type { CertificateMaterial } from './tls/cipher-policy.ts';
import type { WorkerTls } from './tls/secure-serving.ts';

/** Why viewers are refused: control has been away too long (daemon.ts). */
export interface ViewerRefusal {
  code: ErrorCode;
  message: string;
}

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
  /** HTTPS beside (or instead of) plain HTTP; absent when the box serves plain HTTP only */
  tls?: WorkerTls;
}

/**
 * The main thread's answer to a worker's 'miss:ask'. `held`: the store has the file after all
 * (its 'store:upsert' reached the worker before this answer). `filling`: the fill engine is
 * downloading it; `file` is its entry as it will be published (headers are known up front from
 * the manifest), and 'miss:progress' / 'miss:reset' / 'miss:end' follow until the download ends.
 */
export type MissAnswer =
  | { kind: 'held' }
  | { kind: 'not-wanted' }
  | { kind: 'filling'; file: FileEntry; path: string; written: number };

export type MainToWorker =
  | { type: 'metrics:get'; id: number }
  | { type: 'health'; health: HealthView }
  | { type: 'drain' }
  /** control's URL-token key set replaces the one the gate checks against */
  | { type: 'token-keys'; keys: Record<string, string> }
  /** refuse viewers (503 with this code and message; peers are still served), or serve them again */
  | { type: 'viewers'; refuse: ViewerRefusal | null }
  | { type: 'fault:crash' }
  /** HTTPS: a new certificate for new connections, and the rotated session-ticket keys */
  | { type: 'tls:certificate'; material: CertificateMaterial }
  | { type: 'tls:tickets'; keys: string[] }
  /** peer credentials from the fill manifest, and this worker's share of the peer serving rate */
  | { type: 'peer:config'; siteId: string; publicKeys: Record<string, string>; bytesPerSec: number }
  | { type: 'miss:answer'; id: number; answer: MissAnswer }
  /** a download being streamed from: bytes [0, written) of the partial file at `path` are on disk */
  | { type: 'miss:progress'; fileId: string; path: string; written: number }
  /** the partial was truncated to zero (a source served bad bytes): everything read from it is void */
  | { type: 'miss:reset'; fileId: string }
  /** the download ended: published (the store's upsert came first) or failed */
  | { type: 'miss:end'; fileId: string; ok: boolean };

export type WorkerToMain =
  | { type: 'listening' }
  | { type: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: 'stats'; bytesTotal: number; diskErrors: number; connections: number; inFlight: number }
  /** `code`: the OS error's (EIO…), counted against the file's drive */
  | { type: 'disk-error'; fileId: string; message: string; code?: string }
  /** a viewer asked for a file the store does not hold: is it wanted, and if so stream its fill */
  | { type: 'miss:ask'; id: number; fileId: string }
  | { type: 'drained' };

export function isWorkerMessage(m: unknown): m is WorkerToMain {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
