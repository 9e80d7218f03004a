// A fileId names one encoded stream (title × rendition × track): `<titleId>.<stream>`.
// The title is part of the id so a URL token scoped to a title can be checked by the appliance
// without any catalogue lookup (the appliance runs no business logic).
// Both parts are lower-case, short, and made of characters that are safe in a path segment and
// in a file name on every filesystem, so an id can never name anything outside a store root.

export const TITLE_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const STREAM_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const FILE_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}\.[a-z0-9][a-z0-9_-]{0,63}$/;
export const FILE_ID_MAX_LENGTH = 129;

export function isTitleId(s: unknown): s is string {
  return typeof s === 'string' && TITLE_ID_RE.test(s);
}

export function isFileId(s: unknown): s is string {
  return typeof s === 'string' && s.length <= FILE_ID_MAX_LENGTH && FILE_ID_RE.test(s);
}

export function makeFileId(titleId: string, stream: string): string {
  if (!TITLE_ID_RE.test(titleId)) throw new Error(`invalid titleId ${JSON.stringify(titleId)}`);
  if (!STREAM_RE.test(stream)) throw new Error(`invalid stream name ${JSON.stringify(stream)}`);
  return `${titleId}.${stream}`;
}

/** The title a fileId belongs to; the caller must have checked isFileId. */
export function titleOfFileId(fileId: string): string {
  return fileId.slice(0, fileId.indexOf('.'));
}

/**
 * Shard directory for a file: two hex digits from a cheap FNV-1a hash of the id, so 256
 * directories spread files evenly and no directory grows past what ext4 lists quickly.
 */
export function fileIdShard(fileId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < fileId.length; i++) {
    h ^= fileId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) & 0xff).toString(16).padStart(2, '0');
}
