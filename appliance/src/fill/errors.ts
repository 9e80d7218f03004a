// Why a download from one source failed (protocol's FillFailure, reported to control), and why a
// download as a whole ended without a file.

import type { FillFailure, FillLevel } from '../../../protocol/index.ts';

/** One source failed one file. `permanent`: do not try this source again for this file. */
export class SourceFailure extends Error {
  readonly reason: FillFailure;
  readonly permanent: boolean;
  constructor(reason: FillFailure, permanent: boolean, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceFailure';
    this.reason = reason;
    this.permanent = permanent;
  }
}

export type FillErrorCode =
  /** every source the escalation allows failed */
  | 'no_sources'
  /** the manifest no longer wants the file, the window closed or the daemon is stopping */
  | 'stopped';

export class FillError extends Error {
  readonly code: FillErrorCode;
  constructor(code: FillErrorCode, message: string) {
    super(message);
    this.name = 'FillError';
    this.code = code;
  }
}

export interface BadSource {
  sourceId: string;
  level: FillLevel;
  fileId: string;
  reason: FillFailure;
  at: number;
}
