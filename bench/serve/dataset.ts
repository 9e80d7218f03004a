// The bench's files: random bytes (incompressible, nothing to gain from clever encodings) under
// fileIds valid per protocol, written once into a directory that nginx serves as /v1/f/<fileId>.
// The same paths are then published into the appliance store, so both servers hold the same
// bytes.

import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeFileId } from '../../protocol/index.ts';

export interface BenchFile {
  fileId: string;
  titleId: string;
  bytes: number;
  sha256: string;
  /** the file in the nginx docroot; also the source the appliance publishes from */
  path: string;
}

export interface FileSetSpec {
  titleId: string;
  count: number;
  bytes: number;
  /** streams are named s<index>, from this index (default 0) */
  firstIndex?: number;
}

const CHUNK = 4 * 1024 * 1024;

export function writeFileSet(docroot: string, spec: FileSetSpec): BenchFile[] {
  // nginx's workers drop root for `nobody`: the tree must be world-readable
  mkdirSync(docroot, { recursive: true });
  chmodSync(docroot, 0o755);
  const buf = Buffer.allocUnsafe(CHUNK);
  const files: BenchFile[] = [];
  for (let i = spec.firstIndex ?? 0; i < (spec.firstIndex ?? 0) + spec.count; i++) {
    const fileId = makeFileId(spec.titleId, `s${String(i).padStart(3, '0')}`);
    const path = join(docroot, fileId);
    const hash = createHash('sha256');
    const fd = openSync(path, 'w', 0o644);
    try {
      for (let done = 0; done < spec.bytes; ) {
        const n = Math.min(CHUNK, spec.bytes - done);
        const part = buf.subarray(0, n);
        randomFillSync(part);
        hash.update(part);
        writeSync(fd, part);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    files.push({ fileId, titleId: spec.titleId, bytes: spec.bytes, sha256: hash.digest('hex'), path });
  }
  return files;
}

/** Bytes of these files in the page cache now (util-linux fincore), so notes say what was measured. */
export function pageCacheBytes(paths: string[]): number {
  const r = spawnSync('fincore', ['--bytes', '--raw', '--noheadings', '--output', 'RES', ...paths], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`fincore (util-linux) failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).reduce((a, l) => a + Number(l), 0);
}
