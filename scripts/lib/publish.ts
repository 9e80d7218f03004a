// Publish files into an appliance's store through the store's own API (openStore → put), which
// verifies size and sha256 and writes atomically. Done while the daemon is NOT running: the store
// belongs to the daemon's main thread once it runs, and its workers would not see a second
// writer's changes. Popularity ranks go in with the file (PutMeta.rank) so the daemon starts with
// them; callers may also send ranks to the running daemon's admin API.

import { createReadStream } from 'node:fs';
import type { FileKind } from '../../protocol/index.ts';
import { openStore } from '../../appliance/src/store/store.ts';
import type { ApplianceConfig } from './appliance.ts';

export interface SourceFile {
  fileId: string;
  path: string;
  bytes: number;
  sha256: string;
  kind: FileKind;
  /** control's popularity rank, 0 = most popular */
  rank?: number;
}

export async function publishFiles(
  config: Pick<ApplianceConfig, 'storeRoot' | 'stateDir'>,
  files: SourceFile[],
): Promise<{ added: number; kept: number }> {
  const store = await openStore({
    stateDir: config.stateDir,
    roots: [{ path: config.storeRoot, type: 'ssd' }],
    ramBytes: 0,
  });
  let added = 0;
  let kept = 0;
  try {
    for (const f of files) {
      const held = store.get(f.fileId);
      if (held && held.sha256 === f.sha256 && held.bytes === f.bytes) {
        kept++;
        if (f.rank !== undefined) store.setPopularity({ [f.fileId]: f.rank });
        continue;
      }
      await store.put(f.fileId, createReadStream(f.path, { highWaterMark: 1 << 20 }), {
        bytes: f.bytes,
        sha256: f.sha256,
        kind: f.kind,
        ...(f.rank !== undefined ? { rank: f.rank } : {}),
      });
      added++;
    }
  } finally {
    await store.close();
  }
  return { added, kept };
}
