// IPv4 and IPv6 addresses and prefixes as bigints, for token client binding (appliance) and
// longest-prefix steering (control). Pure parsing: no DNS, no sockets.

export type Family = 4 | 6;
export interface Address { family: Family; value: bigint }
export interface Prefix { family: Family; bits: bigint; length: number }

/**
 * A dotted quad in s[start, end) as an unsigned number, or -1: four octets of 1–3 digits, none
 * above 255, no leading zeros. Scanned by hand (no RegExp, no BigInt): steering parses one
 * address per playback start.
 */
export function v4Number(s: string, start = 0, end = s.length): number {
  let v = 0, octets = 0, i = start;
  while (octets < 4) {
    const from = i;
    let o = 0;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      o = o * 10 + (c - 48);
      i++;
    }
    const digits = i - from;
    if (digits === 0 || digits > 3 || o > 255 || (digits > 1 && s.charCodeAt(from) === 48)) return -1;
    v = v * 256 + o;
    octets++;
    if (octets < 4) {
      if (i >= end || s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === end ? v : -1;
}

function parseV4(s: string): bigint | null {
  const v = v4Number(s);
  return v < 0 ? null : BigInt(v);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/**
 * IPv6 text of hex groups with at most one "::" (no embedded IPv4 tail) in s[start, end) → four
 * 32-bit words in `out`; false if malformed. Scanned by hand like v4Number.
 */
export function v6Words(s: string, start: number, end: number, out: Uint32Array): boolean {
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

const w6 = new Uint32Array(4);

function parseV6(s: string): bigint | null {
  if (s.length > 45 || s.length < 2) return null;
  if (!s.includes('.')) {
    if (!v6Words(s, 0, s.length, w6)) return null;
    return (BigInt(w6[0]) << 96n) | (BigInt(w6[1]) << 64n) | (BigInt(w6[2]) << 32n) | BigInt(w6[3]);
  }
  // Embedded IPv4 in the last 32 bits (::ffff:192.0.2.1).
  const lastColon = s.lastIndexOf(':');
  const tail4 = parseV4(s.slice(lastColon + 1));
  if (tail4 === null) return null;
  const v = v6BySplit(s.slice(0, lastColon + 1) + '0:0');
  return v === null ? null : (v & ~0xffffffffn) | tail4;
}

/**
 * IPv6 hex groups with at most one "::" → the address, by splitting on "::" and ":"; null if
 * malformed. The embedded-IPv4 form's parser (rare); v6Words scans the common form by hand, and
 * its test checks it against this one.
 */
export function v6BySplit(s: string): bigint | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups = halves.length === 2 ? head.length + tail.length : head.length;
  if (halves.length === 1 ? groups !== 8 : groups > 7) return null;
  let v = 0n;
  for (const g of [...head, ...Array<string>(8 - groups).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/** Parse an address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is returned as IPv4. */
export function parseAddress(s: string): Address | null {
  const v4 = parseV4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zoneless = bare.split('%')[0];
  const v6 = parseV6(zoneless);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parse `addr/len`. Host bits must be zero unless `lenient`, in which case they are cleared. */
export function parsePrefix(s: string, lenient = false): Prefix | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const lenStr = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenStr)) return null;
  const length = Number(lenStr);
  const a = s.slice(0, slash);
  const v4 = parseV4(a);
  const family: Family | null = v4 !== null ? 4 : parseV6(a) !== null ? 6 : null;
  if (family === null) return null;
  const value = v4 !== null ? v4 : parseV6(a)!;
  const width = familyBits(family);
  if (length > width) return null;
  const mask = prefixMask(family, length);
  if ((value & ~mask) !== 0n && !lenient) return null;
  return { family, bits: value & mask, length };
}

export function prefixMask(family: Family, length: number): bigint {
  const width = BigInt(familyBits(family));
  const all = (1n << width) - 1n;
  return length === 0 ? 0n : (all >> (width - BigInt(length))) << (width - BigInt(length));
}

export function prefixContains(p: Prefix, a: Address): boolean {
  return p.family === a.family && (a.value & prefixMask(p.family, p.length)) === p.bits;
}

export function formatAddress(a: Address): string {
  if (a.family === 4) {
    const v = a.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  return formatV6Groups(groups);
}

/** RFC 5952 text of eight 16-bit groups: lower-case hex, the longest run (≥ 2) of zero groups as `::`. */
export function formatV6Groups(g: ArrayLike<number>): string {
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) { s += i === 0 ? '::' : ':'; i += bestLen - 1; continue; }
    s += g[i].toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress({ family: p.family, value: p.bits })}/${p.length}`;
}
