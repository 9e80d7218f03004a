// Response headers computed once per published file (cached by FileEntry identity: the store
// hands out a new entry object when a file changes), so the serving path only appends the
// per-request Content-Length / Content-Range. Headers are flat [name, value, …] arrays, and the
// ones every hit sends are also kept preformatted (HeaderBlock): a 2 KiB range then costs one
// string append for its head instead of an array copy and a dozen formatted lines.

import type { FileEntry } from '../store/types.ts';
import type { Validators } from './conditional.ts';
import { contentTypeOf } from './file-kind.ts';
import { CORS_RESPONSE_HEADERS } from './cors.ts';
import { formatHeaders, HeaderBlock } from './h1/response.ts';

export interface FileHeaders {
  validators: Validators;
  /** headers every file response carries (validators, type, caching, CORS) */
  common: readonly string[];
  /** `common` as wire text, for a single range's head (rangeHeaders) */
  commonText: string;
  /** headers of a whole-file 200 */
  full: HeaderBlock;
  /** validators, caching and CORS without Content-Type/Length: a 304, or a multipart 206's base */
  base: readonly string[];
  /** Content-Range value of a 416 */
  unsatisfiedRange: string;
  contentType: string;
}

const cache = new WeakMap<FileEntry, FileHeaders>();
let cacheControl = 'public, max-age=86400';

export function setCacheMaxAge(seconds: number): void {
  cacheControl = `public, max-age=${seconds}`;
}

export function headersOf(file: FileEntry): FileHeaders {
  let h = cache.get(file);
  if (h === undefined) {
    h = build(file);
    cache.set(file, h);
  }
  return h;
}

function build(file: FileEntry): FileHeaders {
  const lastModifiedMs = Math.floor(file.mtimeMs / 1000) * 1000;
  const lastModified = new Date(lastModifiedMs).toUTCString();
  const contentType = contentTypeOf(file.kind);
  const validators = [
    'ETag', file.etag,
    'Last-Modified', lastModified,
    'Cache-Control', cacheControl,
    'Accept-Ranges', 'bytes',
    ...CORS_RESPONSE_HEADERS,
  ];
  const common = [...validators, 'Content-Type', contentType];
  return {
    validators: { etag: file.etag, lastModifiedMs, lastModified },
    common,
    commonText: formatHeaders(common),
    full: new HeaderBlock(formatHeaders([...common, 'Content-Length', String(file.bytes)]), true),
    base: validators,
    unsatisfiedRange: `bytes */${file.bytes}`,
    contentType,
  };
}

/** The headers of a single-range 206 of bytes start…end (inclusive). */
export function rangeHeaders(h: FileHeaders, start: number, end: number, fileBytes: number): HeaderBlock {
  return new HeaderBlock(`${h.commonText}Content-Length: ${end - start + 1}\r\nContent-Range: bytes ${start}-${end}/${fileBytes}\r\n`, true);
}
