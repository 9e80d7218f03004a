// Typed store errors: callers (the fill issue, the admin API) branch on `code`, never on message
// text. Every failed publish leaves nothing behind: no temp file, no inventory row.

export type StoreErrorCode =
  | 'BAD_FILE_ID'
  | 'BAD_INPUT'
  | 'SIZE_MISMATCH'
  | 'SHA256_MISMATCH'
  | 'NO_SPACE'
  | 'NOT_FOUND'
  | 'IO'
  | 'BUSY'
  | 'CLOSED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** ENOSPC/EDQUOT become NO_SPACE; other system errors become IO; StoreErrors pass through. */
export function asStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError('NO_SPACE', `${what}: disk full (${code})`, { cause: err });
  }
  return new StoreError('IO', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
