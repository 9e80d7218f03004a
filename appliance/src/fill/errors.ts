// Why a download from one source failed (protocol's FillFailure, reported to control), and why a
// download as a whole ended without a file.

import type { FillFailure, FillLevel } from '../../../protocol/index.ts';

/** One source failed one file. `permanent`: do not try this source again for this file. */
export class SourceFailure extends Error {
  readonly reason: FillFailure;
  readonly permanent: boolean;
  /** the source's HTTP status, when it answered one (404 from a peer or tier source: not yet) */
  readonly status: number | undefined;
  constructor(reason: FillFailure, permanent: boolean, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = 'SourceFailure';
    this.reason = reason;
    this.permanent = permanent;
    this.status = options?.status;
  }
}

export type FillErrorCode =
  /** every source the escalation allows failed */
  | 'no_sources'
  /** the manifest no longer wants the file, the window closed or the daemon is stopping */
  | 'stopped'
  /** its peer or tier sources do not have it yet: the engine comes back to it after `retryInMs` */
  | 'deferred';

export class FillError extends Error {
  readonly code: FillErrorCode;
  /** 'deferred': when to try the file again */
  readonly retryInMs: number;
  constructor(code: FillErrorCode, message: string, retryInMs = 0) {
    super(message);
    this.name = 'FillError';
    this.code = code;
    this.retryInMs = retryInMs;
  }
}

export interface BadSource {
  sourceId: string;
  level: FillLevel;
  fileId: string;
  reason: FillFailure;
  at: number;
}
