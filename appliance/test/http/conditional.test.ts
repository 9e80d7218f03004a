import { describe, expect, it } from 'vitest';
import { ifRangeMatches, notModified } from '../../src/http/conditional.ts';

const lm = Date.UTC(2026, 0, 2, 3, 4, 5);
const v = { etag: '"abc"', lastModifiedMs: lm, lastModified: new Date(lm).toUTCString() };

describe('conditional requests', () => {
  it('If-None-Match: weak comparison, lists and *', () => {
    expect(notModified('"abc"', undefined, v)).toBe(true);
    expect(notModified('W/"abc"', undefined, v)).toBe(true);
    expect(notModified('"x", "abc"', undefined, v)).toBe(true);
    expect(notModified('*', undefined, v)).toBe(true);
    expect(notModified('"x"', undefined, v)).toBe(false);
  });
  it('If-Modified-Since, ignored when If-None-Match is present', () => {
    expect(notModified(undefined, v.lastModified, v)).toBe(true);
    expect(notModified(undefined, new Date(lm + 10_000).toUTCString(), v)).toBe(true);
    expect(notModified(undefined, new Date(lm - 1000).toUTCString(), v)).toBe(false);
    expect(notModified(undefined, 'not a date', v)).toBe(false);
    expect(notModified('"x"', v.lastModified, v)).toBe(false);
  });
  it('If-Range: strong ETag or exact date', () => {
    expect(ifRangeMatches(undefined, v)).toBe(true);
    expect(ifRangeMatches('"abc"', v)).toBe(true);
    expect(ifRangeMatches('W/"abc"', v)).toBe(false);
    expect(ifRangeMatches('"old"', v)).toBe(false);
    expect(ifRangeMatches(v.lastModified, v)).toBe(true);
    expect(ifRangeMatches(new Date(lm + 1000).toUTCString(), v)).toBe(false);
  });
});
