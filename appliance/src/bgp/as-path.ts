// AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 6793 §4.2.3): segments of 2- or 4-octet ASNs, the
// path length used for route selection, and the merge of AS4_PATH into a 2-octet AS_PATH.

export const SEG = { AS_SET: 1, AS_SEQUENCE: 2, CONFED_SEQUENCE: 3, CONFED_SET: 4 } as const;

export interface Segment { type: number; asns: number[] }

/** Parse segments; returns null when malformed (RFC 7606 §7.2: the caller treats as withdraw). */
export function parseAsPath(val: Buffer, asnSize: 2 | 4): Segment[] | null {
  const segs: Segment[] = [];
  let off = 0;
  while (off < val.length) {
    if (off + 2 > val.length) return null;
    const type = val[off];
    const count = val[off + 1];
    if (type < 1 || type > 4 || count === 0) return null;
    const end = off + 2 + count * asnSize;
    if (end > val.length) return null;
    const asns: number[] = [];
    for (let p = off + 2; p < end; p += asnSize) asns.push(asnSize === 4 ? val.readUInt32BE(p) : val.readUInt16BE(p));
    segs.push({ type, asns });
    off = end;
  }
  return segs;
}

/** Path length for selection (RFC 4271 §9.1.2.2): a set counts one, confederation segments zero. */
export function asPathLength(segs: readonly Segment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === SEG.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === SEG.AS_SET) n += 1;
  }
  return n;
}

/** RFC 6793 §4.2.3: keep the leading ASNs of AS_PATH that AS4_PATH does not cover. */
export function mergeAs4Path(asPath: Segment[], as4Path: Segment[]): Segment[] {
  const n = asPathLength(asPath);
  const n4 = asPathLength(as4Path);
  if (n < n4) return asPath;
  let keep = n - n4;
  const out: Segment[] = [];
  for (const s of asPath) {
    if (keep <= 0) break;
    if (s.type === SEG.AS_SEQUENCE) {
      const take = s.asns.slice(0, keep);
      out.push({ type: s.type, asns: take });
      keep -= take.length;
    } else if (s.type === SEG.AS_SET) {
      out.push(s);
      keep -= 1;
    } else {
      out.push(s);
    }
  }
  return [...out, ...as4Path];
}

export function flattenAsPath(segs: readonly Segment[]): number[] {
  return segs.flatMap((s) => s.asns);
}

export function encodeAsPath(segs: readonly Segment[], asnSize: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const s of segs) {
    const b = Buffer.alloc(2 + s.asns.length * asnSize);
    b[0] = s.type;
    b[1] = s.asns.length;
    s.asns.forEach((a, i) => (asnSize === 4 ? b.writeUInt32BE(a, 2 + 4 * i) : b.writeUInt16BE(a & 0xffff, 2 + 2 * i)));
    parts.push(b);
  }
  return Buffer.concat(parts);
}
