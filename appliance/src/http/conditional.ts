// Conditional request evaluation (RFC 9110 §13) for immutable published files: the validators
// are a strong ETag (from the sha256) and Last-Modified (publish time, second precision).

export interface Validators {
  etag: string;
  /** Last-Modified as unix milliseconds truncated to whole seconds */
  lastModifiedMs: number;
  lastModified: string;
}

/** Weak comparison of an If-None-Match list against our (strong) ETag. */
export function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  let pos = 0;
  while (pos < header.length) {
    let comma = header.indexOf(',', pos);
    if (comma < 0) comma = header.length;
    let tag = header.slice(pos, comma).trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === etag) return true;
    pos = comma + 1;
  }
  return false;
}

/**
 * True when the client's cached copy is current, so a GET/HEAD answers 304.
 * If-None-Match wins over If-Modified-Since when both are present.
 */
export function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  v: Validators,
): boolean {
  if (ifNoneMatch !== undefined) return noneMatch(ifNoneMatch, v.etag);
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return Number.isFinite(since) && v.lastModifiedMs <= since;
  }
  return false;
}

/**
 * If-Range: the Range header applies only if the validator still matches. An entity tag must
 * match strongly (a weak tag never matches); a date must equal Last-Modified exactly.
 */
export function ifRangeMatches(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && date === v.lastModifiedMs;
}
