// Parsing of the HTTP Range header (RFC 9110 §14.1.2) against a known file size.
// Outcomes follow the RFC: a header we cannot parse, or a unit other than bytes, is ignored
// (the client gets the whole file with 200); a syntactically valid set in which no range
// overlaps the file is unsatisfiable (416); otherwise the satisfiable ranges, clamped to the file.

export interface ByteSpan {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

export type RangeResult =
  | { kind: 'none' }
  | { kind: 'unsatisfiable' }
  | { kind: 'ranges'; ranges: ByteSpan[] };

const NONE: RangeResult = { kind: 'none' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };

/** More specs than this in one header is treated as abuse and the header is ignored. */
export const MAX_RANGE_SPECS = 64;
/** A header longer than this is ignored (it cannot be an honest player's request). */
const MAX_HEADER_LENGTH = 4096;

/**
 * Non-negative decimal integer from s[from, to). Values beyond Number.MAX_SAFE_INTEGER are
 * returned as Infinity: they exceed any file we hold, which is all the caller needs to know.
 * Returns -1 when the text is not all digits.
 */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/** Trim optional whitespace (SP / HTAB) around s[from, to). */
function trimmed(s: string, from: number, to: number): [number, number] {
  while (from < to && (s.charCodeAt(from) === 32 || s.charCodeAt(from) === 9)) from++;
  while (to > from && (s.charCodeAt(to - 1) === 32 || s.charCodeAt(to - 1) === 9)) to--;
  return [from, to];
}

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return NONE;
  const eq = header.indexOf('=');
  if (eq < 0) return NONE;
  const [us, ue] = trimmed(header, 0, eq);
  if (header.slice(us, ue).toLowerCase() !== 'bytes') return NONE;

  const ranges: ByteSpan[] = [];
  let specs = 0;
  let pos = eq + 1;
  while (pos <= header.length) {
    let comma = header.indexOf(',', pos);
    if (comma < 0) comma = header.length;
    const [s, e] = trimmed(header, pos, comma);
    pos = comma + 1;
    // RFC 9110 allows empty list elements ("bytes=0-1, ,2-3"); skip them
    if (s === e) continue;
    if (++specs > MAX_RANGE_SPECS) return NONE;
    const dash = header.indexOf('-', s);
    if (dash < 0 || dash >= e) return NONE;
    if (dash === s) {
      // suffix: the last N bytes
      const n = digits(header, s + 1, e);
      if (n < 0) return NONE;
      if (n === 0 || size === 0) continue;
      ranges.push({ start: n >= size ? 0 : size - n, end: size - 1 });
      continue;
    }
    const first = digits(header, s, dash);
    if (first < 0) return NONE;
    let last: number;
    if (dash + 1 === e) {
      last = Infinity; // open: from first to the end
    } else {
      last = digits(header, dash + 1, e);
      if (last < 0 || last < first) return NONE;
    }
    if (first >= size) continue; // this spec is unsatisfiable; others may not be
    ranges.push({ start: first, end: Math.min(last, size - 1) });
  }
  if (specs === 0) return NONE;
  return ranges.length === 0 ? UNSATISFIABLE : { kind: 'ranges', ranges };
}
