// Response headers computed once per published file (cached by FileEntry identity: the store
// hands out a new entry object when a file changes), so the serving path only appends the
// per-request Content-Length / Content-Range. Headers are flat [name, value, …] arrays, the
// cheapest form res.writeHead accepts.

import type { FileEntry } from '../store/types.ts';
import type { Validators } from './conditional.ts';
import { contentTypeOf } from './file-kind.ts';
import { CORS_RESPONSE_HEADERS } from './cors.ts';

export interface FileHeaders {
  validators: Validators;
  /** headers every file response carries (validators, type, caching, CORS) */
  common: readonly string[];
  /** headers of a whole-file 200 */
  full: readonly string[];
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
    full: [...common, 'Content-Length', String(file.bytes)],
    base: validators,
    unsatisfiedRange: `bytes */${file.bytes}`,
    contentType,
  };
}
