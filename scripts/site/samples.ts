// A few sample files for the dev site, generated once (random bytes, sized like a short title's
// streams) and reused on later runs, so URLs and sha256s stay the same across restarts.

import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileKind } from '../../protocol/index.ts';
import { makeFileId } from '../../protocol/index.ts';
import type { SourceFile } from '../lib/publish.ts';

export const SAMPLE_TITLE = 'sample';

const SAMPLES: Array<{ stream: string; bytes: number; kind: FileKind }> = [
  { stream: 'video_720p', bytes: 4 * 1024 * 1024, kind: 'video' },
  { stream: 'video_360p', bytes: 1536 * 1024, kind: 'video' },
  { stream: 'audio_en', bytes: 512 * 1024, kind: 'audio' },
];

export function ensureSamples(dir: string): SourceFile[] {
  return SAMPLES.map(({ stream, bytes, kind }) => {
    const fileId = makeFileId(SAMPLE_TITLE, stream);
    const path = join(dir, fileId);
    if (!existsSync(path) || statSync(path).size !== bytes) {
      const buf = Buffer.allocUnsafe(bytes);
      randomFillSync(buf);
      writeFileSync(path, buf);
    }
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    return { fileId, path, bytes, sha256, kind };
  });
}
