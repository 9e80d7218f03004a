// Routing of public file URLs (protocol/src/urls.ts) without decoding anything: fileIds and
// tokens are made only of characters that need no percent-encoding, so any '%', '.' segment or
// other oddity simply fails validation. A path never reaches the filesystem: the store maps a
// validated fileId to its path.

import { isFileId, PEER_PATH_PREFIX, TOKEN_MAX_LENGTH } from '../../../protocol/index.ts';

export type FileRoute =
  | { kind: 'file'; fileId: string; token: string | undefined }
  /** a peer's fill request (/v1/peer/f/:fileId); its credential is a header, never the URL */
  | { kind: 'peer'; fileId: string }
  /** a file route whose id or token is malformed: 400 */
  | { kind: 'bad'; message: string }
  /** not a file route at all */
  | { kind: 'other' };

export const MAX_URL_LENGTH = TOKEN_MAX_LENGTH + 512;
const OTHER: FileRoute = { kind: 'other' };
const TOKEN_RE = /^[A-Za-z0-9_.-]+$/;

function queryToken(query: string): string | undefined {
  // query is the text after '?'; t= may appear among other parameters
  let pos = 0;
  while (pos < query.length) {
    let amp = query.indexOf('&', pos);
    if (amp < 0) amp = query.length;
    if (query.charCodeAt(pos) === 116 /* t */ && query.charCodeAt(pos + 1) === 61 /* = */) {
      return query.slice(pos + 2, amp);
    }
    pos = amp + 1;
  }
  return undefined;
}

function fileRoute(fileId: string, token: string | undefined): FileRoute {
  if (!isFileId(fileId)) return { kind: 'bad', message: 'malformed file id' };
  if (token !== undefined && token !== '' && !TOKEN_RE.test(token)) {
    return { kind: 'bad', message: 'malformed token' };
  }
  return { kind: 'file', fileId, token };
}

export function parseFilePath(url: string): FileRoute {
  if (url.length > MAX_URL_LENGTH) return { kind: 'bad', message: 'URL too long' };
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.startsWith('/v1/f/')) {
    const fileId = path.slice(6);
    if (fileId.length === 0) return OTHER;
    return fileRoute(fileId, q < 0 ? undefined : queryToken(url.slice(q + 1)));
  }
  if (path.startsWith('/v1/t/')) {
    const slash = path.indexOf('/', 6);
    if (slash < 0 || !path.startsWith('/f/', slash)) return OTHER;
    const fileId = path.slice(slash + 3);
    if (fileId.length === 0) return OTHER;
    return fileRoute(fileId, path.slice(6, slash));
  }
  if (path.startsWith(PEER_PATH_PREFIX)) {
    const fileId = path.slice(PEER_PATH_PREFIX.length);
    if (fileId.length === 0) return OTHER;
    return isFileId(fileId) ? { kind: 'peer', fileId } : { kind: 'bad', message: 'malformed file id' };
  }
  return OTHER;
}
