// Several samples of one figure: the median is the figure, min and max its spread. One sample
// cannot tell a regression from a noisy neighbour on a shared machine; five can show which.

export interface Spread { median: number; min: number; max: number; samples: number[] }

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no samples');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], max: s[s.length - 1], samples: [...values] };
}
