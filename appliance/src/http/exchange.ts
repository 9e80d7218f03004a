// What one worker's serving path works with, and the accounting of one response.

import type { ServeResponse as ServerResponse } from './h1/response.ts';
import { performance } from 'node:perf_hooks';
import type { FileEntry, StoreView } from '../store/types.ts';
import type { BodyHooks, IoLimiter } from './disk-reader.ts';
import type { MissClient } from './miss-stream.ts';
import type { OpenFiles } from './open-files.ts';
import type { PeerGate } from './peer-gate.ts';
import type { PeerPacer } from './peer-pacer.ts';
import type { ServeMetrics, TierLabel } from './serve-metrics.ts';
import type { TokenGate } from './token-gate.ts';
import type { ViewerRefusal } from './worker-messages.ts';

export interface ServeContext {
  view: StoreView;
  /** file handles kept open between responses */
  files: OpenFiles;
  gate: TokenGate;
  metrics: ServeMetrics;
  /** reads in flight per disk tier, this worker's share of the probed per-disk concurrency */
  limiters: { ssd: IoLimiter; hdd: IoLimiter };
  /** more ranges than this in one request: the Range header is ignored (200) */
  maxRanges: number;
  /** a read of this file failed (`code`: the OS error's, e.g. EIO): the main thread counts it
   *  against the file's drive and re-verifies the file (and quarantines a bad copy) */
  onDiskError(fileId: string, message: string, code: string | undefined): void;
  /** peer credentials (from the fill manifest) for /v1/peer/f/ */
  peers: PeerGate;
  /** this worker's share of the peer serving rate */
  peerPacer: PeerPacer;
  /** a viewer's file the store does not hold: asks the main thread whether to fill it now */
  misses: MissClient;
  /** set while viewers are refused (control away too long): every viewer file request gets this
   *  503, so players move on to their next base URL; peers are still served */
  refuseViewers: ViewerRefusal | null;
}

export function limiterFor(ctx: ServeContext, file: FileEntry): IoLimiter {
  return file.tier === 'ssd' ? ctx.limiters.ssd : ctx.limiters.hdd;
}

/** Accounting for one response, settled once when it closes (finished or aborted). */
export class Exchange {
  readonly started = performance.now();
  tier: TierLabel = 'none';
  bytes = 0;
  unpin: (() => void) | undefined;
  fileId: string | undefined;
  /** a peer's fill request: counted apart from viewers, not viewer demand */
  peer = false;
  /** set for bodies that are paced or still being written (never for a viewer's hit) */
  hooks: BodyHooks | undefined;
  readonly ctx: ServeContext;
  readonly res: ServerResponse;

  constructor(ctx: ServeContext, res: ServerResponse) {
    this.ctx = ctx;
    this.res = res;
    ctx.metrics.inFlightCount++;
    // the response's own close hook, not a 'close' listener: no listener table per response
    res.closeHook = this;
  }

  /** Called once, when the response closes: settle the accounting. */
  closed(): void {
    const { metrics, view } = this.ctx;
    metrics.inFlightCount--;
    this.unpin?.();
    if (this.peer) {
      metrics.peerResponse(this.res.statusCode, this.bytes);
      return;
    }
    metrics.response(this.res.statusCode, this.tier, (performance.now() - this.started) / 1000);
    if (this.bytes > 0) {
      metrics.bytes(this.tier, this.bytes);
      if (this.fileId !== undefined) view.noteServed(this.fileId, this.bytes);
    }
  }
}
