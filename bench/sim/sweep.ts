// The storage sweep (README: Cost) in a worker thread: its points run one after another there,
// beside the main run on the other core, so a full `npm run sim` takes about the main run's time
// rather than the sum. Results come back by structured clone; their tallies are made Tally
// objects again.

import { Worker } from 'node:worker_threads';
import type { SimOptions } from './options.ts';
import type { SimResult } from './simulate.ts';
import { Tally } from './tally.ts';

const WORKER_URL = new URL('./sweep-worker.ts', import.meta.url);

export interface SweepPoint { storageTB: number; result: SimResult }

/** The sweep's slice of the world at `tb` TB per box (options.ts: the sweep* options). */
export function sweepOptions(options: SimOptions, tb: number): SimOptions {
  return {
    ...options, storageTB: tb, days: options.sweepDays, appliances: options.sweepAppliances, sites: options.sweepSites,
    ixSitesPerRegion: options.sweepIxSitesPerRegion, ixAppliancesPerSite: options.sweepIxAppliancesPerSite,
    sessionsPerDay: Math.round(options.sessionsPerDay * options.sweepSessionShare), sweepTB: [],
  };
}

function revive(r: SimResult): SimResult {
  return { ...r, total: Object.assign(new Tally(), r.total), days: r.days.map((d) => ({ day: d.day, tally: Object.assign(new Tally(), d.tally) })) };
}

/** Runs every point of `options.sweepTB` in one worker thread; settles when all are done. */
export function runSweep(options: SimOptions, log: (m: string) => void): Promise<SweepPoint[]> {
  if (options.sweepTB.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const points: SweepPoint[] = [];
    const worker = new Worker(WORKER_URL, { workerData: options });
    worker.on('message', (m: { log: string } | SweepPoint) => {
      if ('log' in m) log(m.log);
      else points.push({ storageTB: m.storageTB, result: revive(m.result) });
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (points.length === options.sweepTB.length) resolve(points);
      else reject(new Error(`the sweep's worker exited with ${code} after ${points.length} of ${options.sweepTB.length} points`));
    });
  });
}
