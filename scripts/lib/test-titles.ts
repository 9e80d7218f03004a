// Titles for fill tests and benches without running the packager: random-byte files written
// straight into the origin's store (bench/serve/dataset.ts), a content manifest with their real
// sizes and sha256s, registered with control as the packager would (POST /v1/titles). The media
// is not playable; fill only moves and verifies bytes.

import { randomBytes } from 'node:crypto';
import type { TitleRecord } from '../../protocol/index.ts';
import { writeFileSet, type BenchFile } from '../../bench/serve/dataset.ts';
import type { ControlApi } from './control-api.ts';

export interface TitleSpec {
  titleId: string;
  /** streams of the title, all `bytes` long */
  files: number;
  bytes: number;
  /** regions where it may be played; [] = everywhere */
  regions?: string[];
}

export interface TestTitle {
  titleId: string;
  files: BenchFile[];
  record: TitleRecord;
  bytes: number;
}

/** Write a title's files into the origin store and build its TitleRecord. */
export function writeTitle(originStore: string, spec: TitleSpec): TestTitle {
  const files = writeFileSet(originStore, { titleId: spec.titleId, count: spec.files, bytes: spec.bytes });
  return { titleId: spec.titleId, files, record: titleRecord(spec, files), bytes: spec.files * spec.bytes };
}

/** Write the files and register the title with control. */
export async function addTitle(api: ControlApi, originStore: string, spec: TitleSpec): Promise<TestTitle> {
  const t = writeTitle(originStore, spec);
  await api.registerTitle(t.record);
  return t;
}

function titleRecord(spec: TitleSpec, files: BenchFile[]): TitleRecord {
  const kid = randomBytes(16).toString('hex');
  return {
    title: { titleId: spec.titleId, name: `Test ${spec.titleId}`, regions: spec.regions ?? [] },
    manifest: {
      version: 1,
      titleId: spec.titleId,
      durationMs: 600_000,
      files: files.map((f, i) => ({
        fileId: f.fileId,
        kind: 'video' as const,
        mimeType: 'video/mp4',
        codecs: 'avc1.64001f',
        bandwidth: 1_000_000 * (i + 1),
        width: 640,
        height: 360,
        bytes: f.bytes,
        sha256: f.sha256,
        initRange: { start: 0, end: 99 },
        indexRange: { start: 100, end: 199 },
        kid,
      })),
      kids: [kid],
      templates: {
        dash: '<MPD><Period>{{BASE_URLS}}</Period></MPD>',
        hls: { master: '#EXTM3U\n', media: {} },
      },
      createdAt: new Date().toISOString(),
    },
    keys: [{ kid, key: randomBytes(16).toString('hex'), label: 'sd' }],
  };
}
