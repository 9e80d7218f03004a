// NLRI prefix lists (RFC 4271 §4.3, RFC 4760 §5): a length octet then just enough octets for it.
// Prefixes become the CIDR strings protocol/ uses, host bits cleared.

import { formatV6Groups, parsePrefix, type Family } from '../../../protocol/index.ts';
import { BgpError } from './wire.ts';

const DEC = Array.from({ length: 256 }, (_, i) => String(i));
const groups = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Decode prefixes in buf[start, end). Errors throw BgpError(code, subcode) given by the caller.
 * Written straight from the octets (no BigInt): a full table is a million of these.
 */
export function decodePrefixes(buf: Buffer, start: number, end: number, family: Family, code: number, subcode: number): string[] {
  const max = family === 4 ? 32 : 128;
  const out: string[] = [];
  let off = start;
  while (off < end) {
    const len = buf[off];
    if (len > max) throw new BgpError(code, subcode, `prefix length ${len} exceeds ${max}`);
    const n = (len + 7) >> 3;
    if (off + 1 + n > end) throw new BgpError(code, subcode, 'prefix overruns its field');
    const at = off + 1;
    // Trailing bits past the length are ignored (RFC 4271 §4.3), so cleared.
    const keep = len & 7;
    const last = keep === 0 ? 0xff : (0xff << (8 - keep)) & 0xff;
    const octet = (i: number) => (i >= n ? 0 : i === n - 1 ? buf[at + i] & last : buf[at + i]);
    if (family === 4) {
      out.push(`${DEC[octet(0)]}.${DEC[octet(1)]}.${DEC[octet(2)]}.${DEC[octet(3)]}/${len}`);
    } else {
      for (let g = 0; g < 8; g++) groups[g] = (octet(2 * g) << 8) | octet(2 * g + 1);
      out.push(`${formatV6Groups(groups)}/${len}`);
    }
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
