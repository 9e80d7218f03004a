// The machine a bench ran on, measured at the end of the run, with the 1-minute load average
// before and after: benches run on machines shared with other work, and the load shows it.

import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { round3 } from './serve/measurement.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  kernel: string;
  /** 1-minute load average before and after: other work on the machine shows up here */
  loadavg_start: number;
  loadavg_end: number;
}

export function machine(loadStart: number): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memory_gib: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    loadavg_start: round3(loadStart),
    loadavg_end: round3(loadavg()[0]),
  };
}
