// A minimal ISO-BMFF top-level box walker: enough to check that byte ranges in manifests point at
// the right boxes (ftyp/moov for init, sidx for index, moof/mdat for media) and to read a sidx.

import { open } from 'node:fs/promises';

export interface Box {
  type: string;
  start: number;
  /** total size including the header */
  size: number;
}

/** Top-level boxes of a file, in order. Throws on a size that runs past the end of the file. */
export async function topLevelBoxes(path: string): Promise<Box[]> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const boxes: Box[] = [];
    const head = Buffer.alloc(16);
    let pos = 0;
    while (pos < fileSize) {
      const { bytesRead } = await fh.read(head, 0, 16, pos);
      if (bytesRead < 8) throw new Error(`${path}: truncated box header at ${pos}`);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (bytesRead < 16) throw new Error(`${path}: truncated largesize at ${pos}`);
        size = Number(head.readBigUInt64BE(8));
      } else if (size === 0) size = fileSize - pos;
      if (size < 8 || pos + size > fileSize) throw new Error(`${path}: box ${type} at ${pos} has bad size ${size}`);
      boxes.push({ type, start: pos, size });
      pos += size;
    }
    return boxes;
  } finally {
    await fh.close();
  }
}

/** Boxes exactly covering [start, end] (inclusive), or undefined if the range splits a box. */
export function boxesIn(boxes: Box[], start: number, end: number): Box[] | undefined {
  const first = boxes.findIndex((b) => b.start === start);
  if (first < 0) return undefined;
  const out: Box[] = [];
  for (let i = first; i < boxes.length; i++) {
    out.push(boxes[i]);
    const last = boxes[i].start + boxes[i].size - 1;
    if (last === end) return out;
    if (last > end) return undefined;
  }
  return undefined;
}

export interface SidxReference {
  offset: number;
  size: number;
  durationTicks: number;
}

/** Parse a sidx box's references into absolute file offsets (ISO 14496-12 §8.16.3). */
export function parseSidx(buf: Buffer, sidxStart: number): { timescale: number; refs: SidxReference[] } {
  const version = buf[8];
  const timescale = buf.readUInt32BE(16);
  let p = 20;
  let firstOffset: number;
  if (version === 0) {
    firstOffset = buf.readUInt32BE(p + 4);
    p += 8;
  } else {
    firstOffset = Number(buf.readBigUInt64BE(p + 8));
    p += 16;
  }
  p += 2; // reserved
  const count = buf.readUInt16BE(p);
  p += 2;
  const refs: SidxReference[] = [];
  let offset = sidxStart + buf.readUInt32BE(0) + firstOffset;
  for (let i = 0; i < count; i++, p += 12) {
    const size = buf.readUInt32BE(p) & 0x7fffffff;
    refs.push({ offset, size, durationTicks: buf.readUInt32BE(p + 4) });
    offset += size;
  }
  return { timescale, refs };
}
