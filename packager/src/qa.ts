// QA before publish. Each check returns the reason it failed (or nothing), so the caller can stop
// the publish with every reason listed:
//  - byte ranges: initRange is exactly ftyp+moov, indexRange exactly the sidx, and the sidx
//    references land on moof boxes that, with their mdat, tile the rest of the file;
//  - round trip: the packaged file decrypted with its key carries exactly the clear encode's
//    packets (size and CRC of every one), and decodes to the same number of frames;
//  - keyframes: every video rendition has its keyframes at the same instants.

import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { boxesIn, parseSidx, topLevelBoxes } from './mp4-boxes.ts';
import { ffmpegJob } from './ff.ts';
import { run } from './run.ts';
import { tools } from './tools.ts';

export async function checkByteRanges(
  path: string,
  initRange: { start: number; end: number },
  indexRange: { start: number; end: number },
): Promise<string | undefined> {
  let boxes;
  try {
    boxes = await topLevelBoxes(path);
  } catch (e) {
    return (e as Error).message;
  }
  const init = boxesIn(boxes, initRange.start, initRange.end)?.map((b) => b.type);
  if (!init || init[0] !== 'ftyp' || !init.includes('moov') || init.some((t) => !['ftyp', 'moov', 'free'].includes(t))) {
    return `${path}: initRange ${initRange.start}-${initRange.end} is not ftyp+moov (${init?.join(',') ?? 'splits a box'})`;
  }
  const index = boxesIn(boxes, indexRange.start, indexRange.end);
  if (!index || index.length !== 1 || index[0].type !== 'sidx') {
    return `${path}: indexRange ${indexRange.start}-${indexRange.end} is not one sidx box`;
  }
  const fh = await open(path, 'r');
  const buf = Buffer.alloc(index[0].size);
  try {
    await fh.read(buf, 0, buf.length, index[0].start);
  } finally {
    await fh.close();
  }
  const { refs } = parseSidx(buf, index[0].start);
  if (!refs.length) return `${path}: sidx lists no subsegments`;
  for (const r of refs) {
    const seg = boxesIn(boxes, r.offset, r.offset + r.size - 1)?.map((b) => b.type);
    if (!seg || seg[0] !== 'moof' || seg.filter((t) => t === 'mdat').length < 1 || seg.some((t) => !['moof', 'mdat', 'styp', 'emsg', 'prft'].includes(t))) {
      return `${path}: sidx reference at ${r.offset} (+${r.size}) is not moof/mdat (${seg?.join(',') ?? 'splits a box'})`;
    }
  }
  const last = refs[refs.length - 1];
  const fileEnd = boxes[boxes.length - 1].start + boxes[boxes.length - 1].size;
  if (last.offset + last.size !== fileEnd) return `${path}: sidx references end at ${last.offset + last.size}, file at ${fileEnd}`;
  return undefined;
}

/** Size and CRC of every packet of the first stream, optionally decrypting. */
async function packetDigest(path: string, dir: string, tag: string, key?: string): Promise<string[]> {
  const out = join(dir, `${tag}.framecrc`);
  await ffmpegJob({
    inputs: [{ path, options: key ? ['-decryption_key', key] : [] }],
    output: out,
    outputOptions: ['-map', '0:0', '-c', 'copy', '-f', 'framecrc'],
  });
  const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
  await unlink(out).catch(() => {});
  return lines.map((l) => l.split(',').slice(4, 6).map((s) => s.trim()).join(' '));
}

/** Frames the decoder produces from the (decrypted) first stream. */
export async function decodedFrames(path: string, dir: string, tag: string, key: string | undefined, durationS?: number, onProgress?: (f: number) => void): Promise<number> {
  const out = join(dir, `${tag}.decoded.framecrc`);
  await ffmpegJob({
    inputs: [{ path, options: key ? ['-decryption_key', key] : [] }],
    output: out,
    // wrapped_avframe: a video frame is counted without hashing its pixels.
    outputOptions: ['-map', '0:0', '-c:v', 'wrapped_avframe', '-f', 'framecrc'],
    durationS,
    onProgress,
  });
  const n = (await readFile(out, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).length;
  await unlink(out).catch(() => {});
  return n;
}

export interface RoundTrip {
  frames: number;
  expectedFrames: number;
  packets: number;
}

/** Decrypt with `key` and compare every packet (size and CRC) with the clear encode's. */
export async function comparePackets(packaged: string, clear: string, key: string, dir: string): Promise<{ error?: string; packets?: number }> {
  const tag = packaged.split('/').pop() ?? 'out';
  let got: string[], want: string[];
  try {
    [got, want] = await Promise.all([packetDigest(packaged, dir, `${tag}.dec`, key), packetDigest(clear, dir, `${tag}.clear`)]);
  } catch (e) {
    return { error: `${tag}: decrypt failed: ${(e as Error).message}` };
  }
  if (got.length !== want.length) return { error: `${tag}: ${got.length} packets after decrypt, clear encode has ${want.length}` };
  const bad = got.findIndex((g, i) => g !== want[i]);
  if (bad >= 0) return { error: `${tag}: packet ${bad} differs from the clear encode after decrypt (wrong key?)` };
  return { packets: got.length };
}

/**
 * Video: one frame per packet. Audio: the encoder's priming packet is trimmed by the edit list,
 * so the clear encode's own decode is the reference.
 */
export function checkFrames(tag: string, frames: number, expected: number, packets: number): { error?: string; result?: RoundTrip } {
  if (frames !== expected) return { error: `${tag}: decoded ${frames} frames, expected ${expected}` };
  return { result: { frames, expectedFrames: expected, packets } };
}

/** Decrypt with `key`, compare packets with the clear encode, decode and count frames. */
export async function checkRoundTrip(
  packaged: string,
  clear: string,
  key: string,
  dir: string,
  opts: { audio?: boolean; durationS?: number; onProgress?: (f: number) => void } = {},
): Promise<{ error?: string; result?: RoundTrip }> {
  const tag = packaged.split('/').pop() ?? 'out';
  const p = await comparePackets(packaged, clear, key, dir);
  if (p.error) return { error: p.error };
  const frames = await decodedFrames(packaged, dir, tag, key, opts.durationS, opts.onProgress);
  const expected = opts.audio ? await decodedFrames(clear, dir, `${tag}.clear`, undefined) : p.packets!;
  return checkFrames(tag, frames, expected, p.packets!);
}

/** Keyframe times (seconds, 3 decimals) of the first video stream. */
export async function keyframeTimes(path: string, key?: string): Promise<string[]> {
  const args = ['-v', 'error', ...(key ? ['-decryption_key', key] : []), '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', path];
  const { stdout } = await run(tools().ffprobe, args);
  return stdout
    .split('\n')
    .map((l) => l.split(','))
    .filter((f) => f.length >= 2 && f[1].includes('K'))
    .map((f) => Number(f[0]).toFixed(3));
}

export async function checkKeyframesAligned(renditions: { name: string; path: string; key?: string }[]): Promise<string | undefined> {
  if (renditions.length === 0) return 'no video renditions';
  const lists = await Promise.all(renditions.map(async (r) => ({ name: r.name, times: await keyframeTimes(r.path, r.key) })));
  const ref = lists[0];
  if (ref.times.length < 1) return `${ref.name}: no keyframes`;
  for (const l of lists.slice(1)) {
    if (l.times.join() !== ref.times.join()) {
      return `keyframes of ${l.name} (${l.times.length}) do not align with ${ref.name} (${ref.times.length})`;
    }
  }
  return undefined;
}
