// Prefixes and addresses as 32-bit words, most significant first, without BigInt or RegExp:
// control's route table parses millions of prefixes when a fleet reports and steering turns one
// address into words per decision; the appliance checks import policy on every learned route.
// Accepts exactly what parsePrefix (ip.ts) accepts (host bits zero); the rare IPv6 form with an
// embedded IPv4 tail goes through parsePrefix itself. control/test/steering-trie.test.ts compares
// both on random and malformed input.

import { parsePrefix, v4Number, v6Words } from './ip.ts';
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
  if (length > 128 || !v6Words(s, 0, slash, w)) return false;
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
