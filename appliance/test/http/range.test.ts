import { describe, expect, it } from 'vitest';
import { parseRange, MAX_RANGE_SPECS } from '../../src/http/range.ts';

const SIZE = 1000;
const r = (...spans: [number, number][]) => ({ kind: 'ranges', ranges: spans.map(([start, end]) => ({ start, end })) });
const NONE = { kind: 'none' };
const UNSAT = { kind: 'unsatisfiable' };

describe('parseRange', () => {
  const table: [string | undefined, unknown][] = [
    // valid single ranges
    ['bytes=0-99', r([0, 99])],
    ['bytes=500-500', r([500, 500])],
    ['bytes=990-2000', r([990, 999])], // end clamped to the file
    ['BYTES=0-0', r([0, 0])], // unit is case-insensitive
    ['bytes = 1-2', r([1, 2])],
    // open
    ['bytes=900-', r([900, 999])],
    ['bytes=0-', r([0, 999])],
    // suffix
    ['bytes=-100', r([900, 999])],
    ['bytes=-1', r([999, 999])],
    ['bytes=-5000', r([0, 999])], // longer than the file: the whole file
    ['bytes=-0', UNSAT],
    // multiple
    ['bytes=0-1,10-11', r([0, 1], [10, 11])],
    ['bytes=0-1, 5-, -3', r([0, 1], [5, 999], [997, 999])],
    ['bytes=0-1,,2-3', r([0, 1], [2, 3])], // empty list elements are allowed
    ['bytes=0-1,5000-6000', r([0, 1])], // the unsatisfiable one is dropped
    // unsatisfiable
    ['bytes=1000-', UNSAT],
    ['bytes=1000-1001', UNSAT],
    ['bytes=5000-6000,7000-', UNSAT],
    // malformed: ignored (whole file)
    [undefined, NONE],
    ['', NONE],
    ['bytes=', NONE],
    ['bytes', NONE],
    ['items=0-1', NONE],
    ['bytes=abc', NONE],
    ['bytes=1-0', NONE], // last < first
    ['bytes=-', NONE],
    ['bytes=--5', NONE],
    ['bytes=0-1-2', NONE],
    ['bytes=+1-2', NONE],
    ['bytes=0x10-20', NONE],
    ['bytes=1.5-2', NONE],
    ['bytes=0-1,junk', NONE], // one bad spec spoils the header
    // huge values
    ['bytes=99999999999999999999999-', UNSAT],
    ['bytes=0-99999999999999999999999', r([0, 999])],
    ['bytes=-99999999999999999999999', r([0, 999])],
    ['bytes=9007199254740993-9007199254740999', UNSAT],
    [`bytes=0-${'9'.repeat(5000)}`, NONE], // header too long to be honest
  ];
  for (const [header, want] of table) {
    it(`${JSON.stringify(header)?.slice(0, 60)}`, () => {
      expect(parseRange(header, SIZE)).toEqual(want);
    });
  }

  it(`ignores a header with more than ${MAX_RANGE_SPECS} ranges`, () => {
    const many = Array.from({ length: MAX_RANGE_SPECS + 1 }, (_, i) => `${i}-${i}`).join(',');
    expect(parseRange(`bytes=${many}`, SIZE)).toEqual(NONE);
    const ok = Array.from({ length: MAX_RANGE_SPECS }, (_, i) => `${i}-${i}`).join(',');
    expect(parseRange(`bytes=${ok}`, SIZE)).toMatchObject({ kind: 'ranges' });
  });

  it('an empty file satisfies no range', () => {
    expect(parseRange('bytes=0-', 0)).toEqual(UNSAT);
    expect(parseRange('bytes=-1', 0)).toEqual(UNSAT);
  });
});
