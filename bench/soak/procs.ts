// What the soak samples of each process, every few seconds: RSS and open file descriptors from
// /proc (the whole process, worker threads included), CPU seconds, the V8 heap and event-loop
// delay p99 from its /metrics (the appliance's main thread plus each serving worker, control's
// main thread; the origin has no /metrics), and the error lines its log gained.

import { openSync, readFileSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { treeCpuSeconds } from '../serve/cpu.ts';

export interface Watched {
  name: string;
  kind: 'appliance' | 'control' | 'origin';
  pid(): number | undefined;
  logPath: string;
  /** Prometheus text, or undefined for a process without /metrics */
  metrics?(): Promise<string>;
}

export interface ProcSample {
  /** seconds since the soak started */
  t: number;
  pid: number;
  rssMiB: number;
  fds: number;
  cpuSeconds: number;
  /** V8 heap used, main thread plus serving workers (MiB); null without /metrics */
  heapMiB: number | null;
  /** of which the serving workers' (appliance only) */
  workerHeapMiB: number | null;
  /** the worst event-loop delay p99 over the process's threads since the previous scrape (ms) */
  loopDelayP99Ms: number | null;
  /** error lines the process's log gained since the previous sample */
  logErrors: number;
}

const MiB = 2 ** 20;

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Every value of a series (any labels) in Prometheus text. */
export function seriesValues(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    out.push(Number(rest.slice(rest.lastIndexOf(' ') + 1)));
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Heap and loop delay as each kind of process names them. */
function runtimeFigures(kind: Watched['kind'], text: string): Pick<ProcSample, 'heapMiB' | 'workerHeapMiB' | 'loopDelayP99Ms'> {
  const prefix = kind === 'control' ? 'edgebox_control_' : '';
  const mainHeap = sum(seriesValues(text, `${prefix}nodejs_heap_size_used_bytes`));
  const workerHeap = kind === 'appliance' ? sum(seriesValues(text, 'edgebox_worker_heap_used_bytes')) : null;
  const delays = [...seriesValues(text, `${prefix}nodejs_eventloop_lag_p99_seconds`), ...(kind === 'appliance' ? seriesValues(text, 'edgebox_worker_eventloop_delay_p99_seconds') : [])];
  return {
    heapMiB: (mainHeap + (workerHeap ?? 0)) / MiB,
    workerHeapMiB: workerHeap === null ? null : workerHeap / MiB,
    loopDelayP99Ms: delays.length > 0 ? Math.max(...delays) * 1000 : null,
  };
}

/** Counts the error lines a log file gains: pino levels error/fatal, and bare `…Error:` lines (uncaught). */
export class LogErrors {
  #path: string;
  #offset = 0;
  #partial = '';
  /** the first few, quoted in the results */
  readonly examples: string[] = [];
  constructor(path: string) { this.#path = path; }

  read(): number {
    let size: number;
    try { size = statSync(this.#path).size; } catch { return 0; }
    if (size <= this.#offset) return 0;
    const fd = openSync(this.#path, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(size - this.#offset);
      readSync(fd, buf, 0, buf.length, this.#offset);
      text = this.#partial + buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
    this.#offset = size;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    let n = 0;
    for (const l of lines) {
      const isError = l.startsWith('{') ? /"level":(50|60)\b/.test(l) : /^\w*(Error|Exception)\b/.test(l);
      if (!isError) continue;
      n++;
      if (this.examples.length < 5) this.examples.push(l.slice(0, 400));
    }
    return n;
  }
}

export class ProcWatch {
  readonly w: Watched;
  readonly samples: ProcSample[] = [];
  readonly logErrors: LogErrors;
  /** pids seen: more than one means the process was restarted (or died) during the soak */
  readonly pids = new Set<number>();
  constructor(w: Watched) {
    this.w = w;
    this.logErrors = new LogErrors(w.logPath);
  }

  async sample(t: number): Promise<ProcSample | undefined> {
    const pid = this.w.pid();
    if (pid === undefined) return undefined;
    this.pids.add(pid);
    const text = this.w.metrics ? await this.w.metrics().catch(() => undefined) : undefined;
    const rt = text === undefined ? { heapMiB: null, workerHeapMiB: null, loopDelayP99Ms: null } : runtimeFigures(this.w.kind, text);
    const s: ProcSample = {
      t, pid,
      rssMiB: rssBytes(pid) / MiB,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      cpuSeconds: treeCpuSeconds(pid),
      ...rt,
      logErrors: this.logErrors.read(),
    };
    this.samples.push(s);
    return s;
  }
}
