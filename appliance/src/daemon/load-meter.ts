// Box load figures for health, status and the control report: egress bits/s (from the bytes the
// workers report each second), open connections, and CPU busy share over all cores (os.cpus()
// deltas, so it is the box's CPU, not just this process's).

import { cpus } from 'node:os';

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

function cpuTimes(): { busy: number; total: number } {
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

export class LoadMeter {
  #workers = new Map<number, WorkerSample>();
  #bytesServed = 0;
  #diskErrors = 0;
  /** box disk-error totals at each of the last 60 samples */
  #diskErrorHistory: number[] = [];
  #lastBytes = 0;
  #lastAt: number;
  #lastCpu = cpuTimes();
  #now: () => number;
  load: Load = { egressBps: 0, connections: 0, inFlight: 0, cpu: 0, bytesServed: 0, recentDiskErrors: 0 };

  constructor(now: () => number = Date.now) {
    this.#now = now;
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
    const c = cpuTimes();
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
