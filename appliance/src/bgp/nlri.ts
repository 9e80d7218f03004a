// NLRI prefix lists (RFC 4271 §4.3, RFC 4760 §5): a length octet then just enough octets for it.
// Prefixes become the CIDR strings protocol/ uses, host bits cleared.

import { formatPrefix, parsePrefix, type Family } from '../../../protocol/index.ts';
import { BgpError } from './wire.ts';

/** Decode prefixes in buf[start, end). Errors throw BgpError(code, subcode) given by the caller. */
export function decodePrefixes(buf: Buffer, start: number, end: number, family: Family, code: number, subcode: number): string[] {
  const max = family === 4 ? 32 : 128;
  const out: string[] = [];
  let off = start;
  while (off < end) {
    const len = buf[off];
    if (len > max) throw new BgpError(code, subcode, `prefix length ${len} exceeds ${max}`);
    const n = (len + 7) >> 3;
    if (off + 1 + n > end) throw new BgpError(code, subcode, 'prefix overruns its field');
    let bits = 0n;
    for (let i = 0; i < n; i++) bits = (bits << 8n) | BigInt(buf[off + 1 + i]);
    bits <<= BigInt(max - n * 8);
    // Trailing bits past the length are ignored (RFC 4271 §4.3), so clear them.
    const keep = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(max - len);
    out.push(formatPrefix({ family, bits: bits & keep, length: len }));
    off += 1 + n;
  }
  return out;
}

export function encodePrefixes(prefixes: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of prefixes) {
    const p = parsePrefix(s);
    if (!p) throw new Error(`not a prefix: ${s}`);
    const width = p.family === 4 ? 32 : 128;
    const n = (p.length + 7) >> 3;
    const b = Buffer.alloc(1 + n);
    b[0] = p.length;
    for (let i = 0; i < n; i++) b[1 + i] = Number((p.bits >> BigInt(width - 8 * (i + 1))) & 0xffn);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export function prefixFamily(prefix: string): Family {
  return prefix.includes(':') ? 6 : 4;
}
