// Encode the chosen rungs (H.264, closed GOPs, one keyframe interval for all) and the audio
// tracks (AAC stereo, one per language) into clear intermediate MP4s for the packager.

import { join } from 'node:path';
import type { MasterInfo } from './ingest.ts';
import type { Rung } from './hull.ts';
import { ffmpegJob } from './ff.ts';
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

export async function encodeRenditions(
  info: MasterInfo,
  rungs: Rung[],
  opts: { dir: string; preset: string; keyframeS: number; audioBitrateKbps: number; onProgress: (f: number) => void },
): Promise<EncodedStream[]> {
  const names = streamNames(rungs, info.audio.map((a) => a.language));
  const gop = Math.round(info.video.fps * opts.keyframeS);
  const jobs = rungs.length + info.audio.length * 0.2;
  let done = 0;
  const out: EncodedStream[] = [];
  for (const [i, r] of rungs.entries()) {
    const path = join(opts.dir, `${names.video[i]}.mp4`);
    await ffmpegJob({
      inputs: [{ path: info.path }],
      output: path,
      outputOptions: ['-map', '0:v:0', '-vf', `scale=${r.width}:${r.height}:flags=bicubic,setsar=1`, ...x264RateOptions(r.targetBitrate, opts.preset, gop, opts.keyframeS), '-an', '-sn', '-dn', '-map_metadata', '-1'],
      durationS: info.durationS,
      onProgress: (f) => opts.onProgress((done + f) / jobs),
    });
    done += 1;
    out.push({ stream: names.video[i], kind: 'video', path, keyLabel: videoKeyLabel(r.height), width: r.width, height: r.height, bitrate: r.bitrate, predictedQuality: r.predictedQuality });
  }
  for (const [i, a] of info.audio.entries()) {
    const path = join(opts.dir, `${names.audio[i]}.mp4`);
    await ffmpegJob({
      inputs: [{ path: info.path }],
      output: path,
      outputOptions: ['-map', `0:a:${a.index}`, '-c:a', 'aac', '-ac', '2', '-b:a', `${opts.audioBitrateKbps}k`, '-vn', '-sn', '-dn', '-map_metadata', '-1'],
      durationS: info.durationS,
      onProgress: (f) => opts.onProgress((done + f * 0.2) / jobs),
    });
    done += 0.2;
    out.push({ stream: names.audio[i], kind: 'audio', path, keyLabel: 'audio', language: shortLanguage(a.language) });
  }
  opts.onProgress(1);
  return out;
}
