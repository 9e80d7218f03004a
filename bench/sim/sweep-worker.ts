// The sweep's worker thread (sweep.ts): each storage size in turn, each result posted back.

import { parentPort, workerData } from 'node:worker_threads';
import type { SimOptions } from './options.ts';
import { simulate } from './simulate.ts';
import { sweepOptions } from './sweep.ts';

const options = workerData as SimOptions;
for (const tb of options.sweepTB) {
  const o = sweepOptions(options, tb);
  parentPort!.postMessage({ log: `sweep: ${tb} TB per box; ${o.appliances} appliances in ${o.sites} sites, ${o.days} days, ${o.sessionsPerDay} sessions/day` });
  parentPort!.postMessage({ storageTB: tb, result: simulate(o) });
}
