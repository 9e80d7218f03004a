// Independent ffmpeg jobs run side by side, at most `jobs` at once: each job is itself
// multi-threaded, so running as many jobs as cores keeps every core busy through one job's
// serial start and end without oversubscribing memory.

import { availableParallelism } from 'node:os';

export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

/** `jobs` 0 means one per core. */
export function jobCount(jobs: number): number {
  return jobs > 0 ? jobs : availableParallelism();
}

export function jobLimit(jobs: number): Limit {
  const max = jobCount(jobs);
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    if (active >= max) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(fn: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        fn().then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}

/** Split items into `n` groups of about equal total cost (largest first, to the lightest group). */
export function balance<T>(items: T[], n: number, cost: (x: T) => number): T[][] {
  const groups = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, () => ({ cost: 0, items: [] as T[] }));
  for (const x of [...items].sort((a, b) => cost(b) - cost(a))) {
    const g = groups.reduce((a, b) => (b.cost < a.cost ? b : a));
    g.items.push(x);
    g.cost += cost(x);
  }
  return groups.map((g) => g.items).filter((g) => g.length);
}
