// Where things live under a store root. Published files: `<root>/<shard>/<fileId>`. Temp files
// live in `<root>/.tmp/` (same filesystem, so the publishing rename is atomic) and anything
// quarantined in `<root>/.quarantine/`; both names start with a dot, which no shard or fileId does.

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

export function quarantineDir(root: string): string {
  return join(root, QUARANTINE_DIR);
}
