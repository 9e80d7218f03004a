// Encode the chosen rungs (H.264, closed GOPs, one keyframe interval for all) and the audio
// tracks (AAC stereo, one per language) into clear intermediate MP4s for the packager.

import { join } from 'node:path';
import type { MasterInfo } from './ingest.ts';
import type { Rung } from './hull.ts';
import { ffmpegJob, type FfOutput } from './ff.ts';
import { balance, type Limit } from './pool.ts';
import { pickedReference, type QualityProbe, type Reference } from './quality.ts';
import { x264RateOptions } from './trials.ts';
import { videoKeyLabel } from './keys.ts';
import type { KeyLabel } from '../../protocol/index.ts';

export interface EncodedStream {
  /** the stream part of the fileId */
  stream: string;
  kind: 'video' | 'audio';
  path: string;
  keyLabel: KeyLabel;
  width?: number;
  height?: number;
  bitrate?: number;
  predictedQuality?: number;
  language?: string;
}

const ISO639_2TO1: Record<string, string> = {
  eng: 'en', fra: 'fr', fre: 'fr', deu: 'de', ger: 'de', spa: 'es', ita: 'it', por: 'pt', nld: 'nl', dut: 'nl',
  jpn: 'ja', zho: 'zh', chi: 'zh', kor: 'ko', rus: 'ru', ara: 'ar', hin: 'hi', swe: 'sv', pol: 'pl', tur: 'tr',
};

export function shortLanguage(lang: string): string {
  const l = lang.toLowerCase().replace(/[^a-z0-9-]/g, '');
  return ISO639_2TO1[l] ?? (l || 'und');
}

/** Stream names: v<height> per rung (with the rate when two rungs share a height), a_<lang>. */
export function streamNames(rungs: Rung[], languages: string[]): { video: string[]; audio: string[] } {
  const video = rungs.map((r) => (rungs.filter((o) => o.height === r.height).length > 1 ? `v${r.height}_${Math.round(r.bitrate / 1000)}k` : `v${r.height}`));
  const seen = new Map<string, number>();
  const audio = languages.map((l) => {
    const base = `a_${shortLanguage(l).replace(/-/g, '_')}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
  return { video, audio };
}

export interface EncodeOptions {
  dir: string;
  preset: string;
  keyframeS: number;
  audioBitrateKbps: number;
  onProgress: (f: number) => void;
  /** ffmpeg processes to spread the rungs over (each decodes the master once); default 1 */
  processes?: number;
  limit?: Limit;
  /** also write QA's picked reference frames from the same decode (see quality.ts) */
  qaReference?: { path: string; q: QualityProbe; subsample: number };
}

/**
 * Every rung and audio track from the master. In each process the master is decoded once and
 * split to one scaler and encoder per rung; the audio tracks, and QA's reference frames, ride
 * along with the first process.
 */
export async function encodeRenditions(info: MasterInfo, rungs: Rung[], opts: EncodeOptions): Promise<EncodedStream[] & { qaReference?: Reference }> {
  let qaReference: Reference | undefined;
  const names = streamNames(rungs, info.audio.map((a) => a.language));
  const gop = Math.round(info.video.fps * opts.keyframeS);
  const video: EncodedStream[] = rungs.map((r, i) => ({
    stream: names.video[i], kind: 'video', path: join(opts.dir, `${names.video[i]}.mp4`), keyLabel: videoKeyLabel(r.height),
    width: r.width, height: r.height, bitrate: r.bitrate, predictedQuality: r.predictedQuality,
  }));
  const audio: EncodedStream[] = info.audio.map((a, i) => ({
    stream: names.audio[i], kind: 'audio', path: join(opts.dir, `${names.audio[i]}.mp4`), keyLabel: 'audio', language: shortLanguage(a.language),
  }));
  const indexed = rungs.map((r, i) => ({ r, i }));
  const groups = balance(indexed, opts.processes ?? 1, ({ r }) => r.width * r.height);
  const progress = groups.map(() => 0);
  const limit = opts.limit ?? (<T>(fn: () => Promise<T>) => fn());
  await Promise.all(groups.map((g, gi) => limit(() => {
    const outputs: FfOutput[] = g.map(({ r, i }, j) => ({
      path: video[i].path,
      options: ['-map', `[v${j}]`, ...x264RateOptions(r.targetBitrate, opts.preset, gop, opts.keyframeS), '-an', '-sn', '-dn', '-map_metadata', '-1'],
    }));
    const graph = g.map(({ r }, j) => `[s${j}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1[v${j}]`);
    const branches = g.map((_, j) => `[s${j}]`);
    if (gi === 0 && opts.qaReference) {
      const picked = pickedReference('qaref', opts.qaReference.path, opts.qaReference.q, opts.qaReference.subsample, info.video);
      branches.push('[qaref]');
      graph.push(picked.graph);
      outputs.push(picked.output);
      qaReference = picked.reference;
    }
    graph.unshift(`[0:v:0]split=${branches.length}${branches.join('')}`);
    outputs[0].options.unshift('-filter_complex', graph.join(';'));
    if (gi === 0) {
      for (const [k, a] of info.audio.entries()) {
        outputs.push({
          path: audio[k].path,
          options: ['-map', `0:a:${a.index}`, '-c:a', 'aac', '-ac', '2', '-b:a', `${opts.audioBitrateKbps}k`, '-vn', '-sn', '-dn', '-map_metadata', '-1'],
        });
      }
    }
    return ffmpegJob({
      inputs: [{ path: info.path }],
      outputs,
      durationS: info.durationS,
      onProgress: (f) => {
        progress[gi] = f;
        opts.onProgress(progress.reduce((a, b) => a + b, 0) / groups.length);
      },
    });
  })));
  opts.onProgress(1);
  return Object.assign([...video, ...audio], { qaReference });
}
