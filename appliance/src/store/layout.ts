// Where things live under a store root. Published files: `<root>/<shard>/<fileId>`. Temp files
// live in `<root>/.tmp/` (same filesystem, so the publishing rename is atomic) and anything
// quarantined in `<root>/.quarantine/`; both names start with a dot, which no shard or fileId does.
// A staged put's partial file is `<root>/.tmp/<fileId>.partial`: one per file, named for it, so
// it can be found again and resumed after an interruption (reconcile keeps it).

import { join } from 'node:path';
import { fileIdShard, isFileId } from '../../../protocol/index.ts';
import { StoreError } from './errors.ts';

export const TMP_DIR = '.tmp';
export const QUARANTINE_DIR = '.quarantine';
export const SHARD_RE = /^[0-9a-f]{2}$/;

export function filePath(root: string, fileId: string): string {
  if (!isFileId(fileId)) throw new StoreError('BAD_FILE_ID', `invalid fileId ${JSON.stringify(fileId)}`);
  return join(root, fileIdShard(fileId), fileId);
}

export function tmpDir(root: string): string {
  return join(root, TMP_DIR);
}

export const PARTIAL_SUFFIX = '.partial';

export function partialPath(root: string, fileId: string): string {
  if (!isFileId(fileId)) throw new StoreError('BAD_FILE_ID', `invalid fileId ${JSON.stringify(fileId)}`);
  return join(tmpDir(root), fileId + PARTIAL_SUFFIX);
}

/** The fileId a name in a tmp dir is the partial of, or undefined for any other temp file. */
export function partialOf(name: string): string | undefined {
  if (!name.endsWith(PARTIAL_SUFFIX)) return undefined;
  const id = name.slice(0, -PARTIAL_SUFFIX.length);
  return isFileId(id) ? id : undefined;
}

export function quarantineDir(root: string): string {
  return join(root, QUARANTINE_DIR);
}
