// The steering bench reports each figure as the median of several rounds with its spread
// (bench/steering/samples.ts); scripts read the median in the field the single sample had.

import { expect, it } from 'vitest';
import { spread } from '../steering/samples.ts';

it('spread: the median (the middle two averaged for an even count), min and max, samples in their order', () => {
  expect(spread([38.5, 8.8, 46.5, 9.1, 10])).toEqual({ median: 10, min: 8.8, max: 46.5, samples: [38.5, 8.8, 46.5, 9.1, 10] });
  expect(spread([4, 1, 3, 2]).median).toBe(2.5);
  expect(spread([7]).median).toBe(7);
  expect(() => spread([])).toThrow();
});
