// Ingest: ffprobe validates the master before any work is done. Anything that would make a
// broken title (unreadable, truncated, no video, too short, odd geometry) is refused here with a
// message naming the problem, so nothing is encoded or published.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegJob, ffprobe } from './ff.ts';

export class IngestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestError';
  }
}

export interface AudioTrack {
  /** index among the master's audio streams (ffmpeg `0:a:<n>`) */
  index: number;
  language: string;
  channels: number;
  codec: string;
}

export interface MasterInfo {
  path: string;
  container: string;
  durationS: number;
  video: { codec: string; width: number; height: number; fps: number; frameRate: string; frames?: number };
  audio: AudioTrack[];
}

function rate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split('/').map(Number);
  return d ? n / d : n;
}

export async function probeMaster(path: string, minDurationS: number): Promise<MasterInfo> {
  let data;
  try {
    data = await ffprobe(path);
  } catch (e) {
    throw new IngestError(`master ${path} is unreadable: ${(e as Error).message}`);
  }
  const streams = data.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && !(s.disposition?.attached_pic));
  if (!v) throw new IngestError(`master ${path} has no video stream`);
  const width = Number(v.width);
  const height = Number(v.height);
  if (!(width >= 64 && height >= 64)) throw new IngestError(`master ${path}: video ${width}x${height} is too small`);
  const fps = rate(v.avg_frame_rate) || rate(v.r_frame_rate);
  if (!(fps >= 5 && fps <= 120)) throw new IngestError(`master ${path}: frame rate ${v.avg_frame_rate} is not usable`);
  const durationS = Number(data.format?.duration ?? v.duration);
  if (!Number.isFinite(durationS) || durationS <= 0) throw new IngestError(`master ${path}: duration unknown (truncated?)`);
  if (durationS < minDurationS) {
    throw new IngestError(`master ${path} is too short: ${durationS.toFixed(2)} s < ${minDurationS} s`);
  }
  // A truncated file still probes from its header; the stream's own duration or byte count
  // betrays it. Decoding the last second proves the tail is there.
  const vDur = Number(v.duration);
  if (Number.isFinite(vDur) && vDur > 0 && vDur < durationS * 0.5) {
    throw new IngestError(`master ${path}: video stream covers ${vDur.toFixed(2)} s of ${durationS.toFixed(2)} s (truncated?)`);
  }
  await checkTail(path, durationS);
  const audio: AudioTrack[] = streams
    .filter((s) => s.codec_type === 'audio')
    .map((s, index) => ({
      index,
      language: String((s.tags as Record<string, string> | undefined)?.language ?? 'und').toLowerCase(),
      channels: Number(s.channels ?? 2),
      codec: String(s.codec_name),
    }));
  return {
    path,
    container: String(data.format?.format_name ?? 'unknown'),
    durationS,
    video: { codec: String(v.codec_name), width, height, fps, frameRate: String(v.avg_frame_rate || v.r_frame_rate) },
    audio,
  };
}

const DAMAGE = /partial file|Invalid data|error while decoding|moov atom not found|Truncat|corrupt/i;

/** Decode the master's last second: a file cut short or damaged there fails this cheaply. */
async function checkTail(path: string, durationS: number): Promise<void> {
  let stderr: string;
  try {
    stderr = await ffmpegJob({
      inputs: [{ path, options: ['-ss', String(Math.max(0, durationS - 1.5))] }],
      output: join(tmpdir(), 'edgebox-tail-check.null'),
      outputOptions: ['-map', '0:v:0', '-f', 'null'],
    });
  } catch (e) {
    throw new IngestError(`master ${path} is damaged near its end (truncated?): ${(e as Error).message}`);
  }
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1])).pop() ?? 0;
  const damage = stderr.split('\n').find((l) => DAMAGE.test(l));
  if (damage || frames === 0) {
    throw new IngestError(`master ${path} is damaged near its end (truncated?): ${damage?.trim() ?? 'no frames decode'}`);
  }
}
