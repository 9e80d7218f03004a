// The steering bench's world: prefixes are written without BigInt but must be exactly what the
// first version drew with protocol's formatPrefix, so figures stay comparable across versions.

import { describe, expect, it } from 'vitest';
import { formatPrefix, seededRandom as rng } from '../../protocol/index.ts';
import { randomPrefix } from '../steering/world.ts';

function firstVersion(r: () => number): string {
  if (r() < 0.7) {
    const length = 16 + Math.floor(r() * 9);
    const bits = BigInt(Math.floor(r() * 2 ** 32)) & (((1n << BigInt(length)) - 1n) << BigInt(32 - length));
    return formatPrefix({ family: 4, bits, length });
  }
  const length = 32 + Math.floor(r() * 17);
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  v = (v & ((1n << 125n) - 1n)) | (1n << 125n);
  const bits = v & (((1n << BigInt(length)) - 1n) << BigInt(128 - length));
  return formatPrefix({ family: 6, bits, length });
}

describe('steering bench world', () => {
  it('draws the same prefixes as the first version', () => {
    const a = rng(42), b = rng(42);
    for (let i = 0; i < 100_000; i++) expect(randomPrefix(b)).toBe(firstVersion(a));
  });
});
