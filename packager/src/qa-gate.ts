// The QA gate over one packaged title: every check of qa.ts on every file, run side by side up to
// the job limit. Cheap checks first (byte ranges, key ids, decrypted packets against the clear
// encode); then every video rung whose packets matched is decrypted, decoded and scored against
// the master's frames (the picked reference the encode pass wrote, else the master itself),
// its decoded frames counted in the same pass; audio frames are counted by decoding; keyframes
// are compared across rungs.

import type { ContentKey, ContentManifest } from '../../protocol/index.ts';
import type { EncodedStream } from './encode.ts';
import type { MasterInfo } from './ingest.ts';
import type { Limit } from './pool.ts';
import { checkByteRanges, checkFrames, checkKeyframesAligned, comparePackets, decodedFrames, type RoundTrip } from './qa.ts';
import { fileReference, scoreOne, type QualityProbe, type Reference } from './quality.ts';
import type { ShakaOutput } from './shaka.ts';

export interface QaReport {
  passed: boolean;
  reasons: string[];
  metric: string;
  files: Record<string, { byteRanges: 'ok' | string; roundTrip?: RoundTrip; quality?: number }>;
  keyframesAligned: boolean;
}

export interface QaInput {
  titleId: string;
  info: MasterInfo;
  streams: EncodedStream[];
  out: ShakaOutput;
  /** the content manifest as Shaka's output describes it (no quality yet) */
  draft: ContentManifest;
  keyOf: (s: EncodedStream) => ContentKey;
  q: QualityProbe;
  qaVmafSubsample: number;
  work: string;
  limit: Limit;
  /** the master's frames as QA's metric will compare them, written by the encode pass */
  reference?: Reference;
  onProgress: (f: number) => void;
}

export async function runQa(i: QaInput): Promise<QaReport> {
  const qa: QaReport = { passed: false, reasons: [], metric: i.q.metric, files: {}, keyframesAligned: false };
  const streamOf = new Map(i.streams.map((x) => [`${i.titleId}.${x.stream}`, x]));
  const files = i.draft.files.map((f) => ({ f, x: streamOf.get(f.fileId)!, path: i.out.files[f.fileId] }));
  const fail = (reason: string): void => void qa.reasons.push(reason);
  for (const { f } of files) qa.files[f.fileId] = { byteRanges: 'ok' };

  // Structure and packets: cheap, every file.
  const packets = new Map<string, number>();
  await Promise.all(files.map(({ f, x, path }) => i.limit(async () => {
    const br = await checkByteRanges(path, f.initRange, f.indexRange);
    if (br) fail((qa.files[f.fileId].byteRanges = br));
    if (f.kid !== i.keyOf(x).kid) fail(`${f.fileId}: MPD key id ${f.kid} is not the ${x.keyLabel} key`);
    const p = await comparePackets(path, x.path, i.keyOf(x).key, i.work);
    if (p.error) fail(p.error);
    else packets.set(f.fileId, p.packets!);
  })));
  i.onProgress(0.1);

  // Frames and quality: each decrypted video rung against the master's frames, one process each.
  const video = files.filter(({ f }) => f.kind === 'video' && packets.has(f.fileId));
  const audio = files.filter(({ f }) => f.kind === 'audio' && packets.has(f.fileId));
  const reference = i.reference ?? fileReference(i.info.path);
  const progress = video.map(() => 0);
  const tagOf = (path: string): string => path.split('/').pop() ?? path;
  const record = (fileId: string, path: string, frames: number, expected: number): void => {
    const rt = checkFrames(tagOf(path), frames, expected, packets.get(fileId)!);
    if (rt.error) fail(rt.error);
    else qa.files[fileId].roundTrip = rt.result;
  };
  const jobs: Promise<unknown>[] = video.map(({ f, x, path }, k) => i.limit(async () => {
    try {
      const s = await scoreOne(i.q, { path, options: ['-decryption_key', i.keyOf(x).key], countFrames: true }, reference, i.info.video, {
        subsample: i.qaVmafSubsample,
        durationS: i.info.durationS,
        onProgress: (p) => {
          progress[k] = p;
          i.onProgress(0.1 + (0.85 * progress.reduce((a, b) => a + b, 0)) / video.length);
        },
      });
      record(f.fileId, path, s.frames!, packets.get(f.fileId)!);
      qa.files[f.fileId].quality = s.quality;
    } catch (e) {
      fail(`${f.fileId}: decode and ${i.q.metric} failed: ${(e as Error).message}`);
    }
  }));
  for (const { f, x, path } of audio) {
    jobs.push(i.limit(async () => {
      try {
        const [frames, expected] = await Promise.all([
          decodedFrames(path, i.work, tagOf(path), i.keyOf(x).key),
          decodedFrames(x.path, i.work, `${tagOf(path)}.clear`, undefined),
        ]);
        record(f.fileId, path, frames, expected);
      } catch (e) {
        fail(`${f.fileId}: decode failed: ${(e as Error).message}`);
      }
    }));
  }
  const rungs = files.filter(({ f }) => f.kind === 'video');
  const keyframes = checkKeyframesAligned(rungs.map(({ x, path }) => ({ name: x.stream, path, key: i.keyOf(x).key })));
  await Promise.all(jobs);
  const kf = await keyframes;
  qa.keyframesAligned = !kf;
  if (kf) fail(kf);
  qa.passed = qa.reasons.length === 0;
  return qa;
}
