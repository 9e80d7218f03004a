// Box load figures for health, status and the control report: egress bits/s (from the bytes the
// workers report each second), open connections, and CPU busy share over all cores. The CPU is
// the box's (os.cpus() deltas) by default; with `loadCpu: 'process'` it is this daemon's own
// share of all cores (process.cpuUsage(), worker threads included), for machines an appliance
// shares with other work: the dev site and the tests run several appliances beside everything
// else, and the box's CPU would make each of them look overloaded to control.

import { availableParallelism, cpus } from 'node:os';

/** what the reported CPU load measures */
export type CpuScope = 'box' | 'process';
/** busy and total CPU time since some fixed point, in one unit */
export type CpuReader = () => { busy: number; total: number };

export interface Load {
  egressBps: number;
  connections: number;
  inFlight: number;
  /** 0..1 over all cores */
  cpu: number;
  /** file body bytes served since start, all workers (restarts included) */
  bytesServed: number;
  /** disk read errors over the last minute of samples */
  recentDiskErrors: number;
}

interface WorkerSample {
  bytesTotal: number;
  diskErrors: number;
  connections: number;
  inFlight: number;
}

function boxCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

function processCpu(): { busy: number; total: number } {
  const u = process.cpuUsage();
  return { busy: (u.user + u.system) / 1000, total: performance.now() * availableParallelism() };
}

export class LoadMeter {
  #workers = new Map<number, WorkerSample>();
  #bytesServed = 0;
  #diskErrors = 0;
  /** box disk-error totals at each of the last 60 samples */
  #diskErrorHistory: number[] = [];
  #lastBytes = 0;
  #lastAt: number;
  #cpu: CpuReader;
  #lastCpu: { busy: number; total: number };
  #now: () => number;
  load: Load = { egressBps: 0, connections: 0, inFlight: 0, cpu: 0, bytesServed: 0, recentDiskErrors: 0 };

  constructor(now: () => number = Date.now, cpu: CpuScope | CpuReader = 'box') {
    this.#now = now;
    this.#cpu = cpu === 'box' ? boxCpu : cpu === 'process' ? processCpu : cpu;
    this.#lastCpu = this.#cpu();
    this.#lastAt = now();
  }

  /** A worker's periodic stats; its counters restart from zero when the worker does. */
  report(worker: number, s: WorkerSample): void {
    const prev = this.#workers.get(worker);
    const delta = prev && s.bytesTotal >= prev.bytesTotal ? s.bytesTotal - prev.bytesTotal : s.bytesTotal;
    this.#bytesServed += delta;
    this.#diskErrors += prev && s.diskErrors >= prev.diskErrors ? s.diskErrors - prev.diskErrors : s.diskErrors;
    this.#workers.set(worker, s);
  }

  /** A worker is gone: its connections are too. */
  forget(worker: number): void {
    const prev = this.#workers.get(worker);
    if (prev) this.#workers.set(worker, { ...prev, connections: 0, inFlight: 0 });
  }

  /** Recompute the load; call about once a second. */
  sample(): Load {
    const now = this.#now();
    const secs = Math.max(0.001, (now - this.#lastAt) / 1000);
    const bps = ((this.#bytesServed - this.#lastBytes) * 8) / secs;
    this.#lastBytes = this.#bytesServed;
    this.#lastAt = now;
    const c = this.#cpu();
    const dt = c.total - this.#lastCpu.total;
    const cpu = dt > 0 ? Math.min(1, Math.max(0, (c.busy - this.#lastCpu.busy) / dt)) : this.load.cpu;
    this.#lastCpu = c;
    let connections = 0;
    let inFlight = 0;
    for (const w of this.#workers.values()) {
      connections += w.connections;
      inFlight += w.inFlight;
    }
    this.#diskErrorHistory.push(this.#diskErrors);
    if (this.#diskErrorHistory.length > 60) this.#diskErrorHistory.shift();
    const recentDiskErrors = this.#diskErrors - this.#diskErrorHistory[0];
    this.load = { egressBps: bps, connections, inFlight, cpu, bytesServed: this.#bytesServed, recentDiskErrors };
    return this.load;
  }
}
