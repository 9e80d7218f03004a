// Prefixes and addresses as 32-bit words, most significant first, without BigInt or RegExp:
// control's route table parses millions of prefixes when a fleet reports and steering turns one
// address into words per decision; the appliance checks import policy on every learned route.
// Accepts exactly what parsePrefix (ip.ts) accepts (host bits zero); the rare IPv6 form with an
// embedded IPv4 tail goes through parsePrefix itself. control/test/steering-trie.test.ts compares
// both on random and malformed input.

import { parsePrefix, v4Number } from './ip.ts';
import type { Address, Family } from './ip.ts';

export interface WordsPrefix { family: Family; length: number; words: Uint32Array }

const M32 = 0xffffffffn;

/** Address → words (1 for IPv4, 4 for IPv6) into `out`. */
export function addressWords(a: Address, out: Uint32Array): void {
  const v = a.value;
  if (a.family === 4) {
    out[0] = Number(v);
    return;
  }
  out[0] = Number(v >> 96n);
  out[1] = Number((v >> 64n) & M32);
  out[2] = Number((v >> 32n) & M32);
  out[3] = Number(v & M32);
}

function bigintWords(family: Family, v: bigint, out: Uint32Array): void {
  addressWords({ family, value: v }, out);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/**
 * IPv6 (hex groups and at most one "::") in s[start, end) → words in out; false if malformed.
 * Never called with a '.' in the address (the caller hands those to parsePrefix).
 */
function v6At(s: string, start: number, end: number, out: Uint32Array): boolean {
  const len = end - start;
  if (len < 2 || len > 45) return false;
  let n = 0, gap = -1, i = start;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    let g = 0, digits = 0;
    while (i < end) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      g = g * 16 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = g;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) {
      return false; // a single trailing colon
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const fill = 8 - n;
  for (let w = 0; w < 4; w++) {
    const hi = groupAt(2 * w, gap, fill), lo = groupAt(2 * w + 1, gap, fill);
    out[w] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

function groupAt(k: number, gap: number, fill: number): number {
  if (gap < 0 || k < gap) return groups[k];
  if (k < gap + fill) return 0;
  return groups[k - fill];
}

/** Strict `addr/len` → `out` (words zero past the length); false if protocol's parsePrefix would say null. */
export function parsePrefixWords(s: string, out: WordsPrefix): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ld = s.length - slash - 1;
  if (ld < 1 || ld > 3) return false;
  let length = 0;
  for (let i = slash + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    length = length * 10 + (c - 48);
  }
  const w = out.words;
  const v4 = v4Number(s, 0, slash);
  if (v4 >= 0) {
    if (length > 32) return false;
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    if ((v4 & ~mask) >>> 0 !== 0) return false;
    out.family = 4;
    out.length = length;
    w[0] = v4;
    return true;
  }
  if (s.lastIndexOf('.', slash) >= 0) {
    const p = parsePrefix(s);
    if (!p) return false;
    out.family = p.family;
    out.length = p.length;
    bigintWords(p.family, p.bits, w);
    return true;
  }
  if (length > 128 || !v6At(s, 0, slash, w)) return false;
  for (let k = 0; k < 4; k++) {
    const bits = length - 32 * k;
    const mask = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((w[k] & ~mask) >>> 0 !== 0) return false;
  }
  out.family = 6;
  out.length = length;
  return true;
}

export function newWordsPrefix(): WordsPrefix {
  return { family: 4, length: 0, words: new Uint32Array(4) };
}
