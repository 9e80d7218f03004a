// Steering in process, in rounds: each round times decisions one by one and reports its rate and
// latency quantiles, with what else the thread did in that window — GC pauses (perf_hooks 'gc'
// entries), time off the CPU (wall time less the thread's own CPU time: preempted by other
// processes), and how many of the decisions over the p99 aim overlapped a GC pause. The figure is
// the median round, the spread is min–max; a p99 that jumps in one round only, with its slow
// decisions inside GC pauses or with the thread off the CPU, is the machine or the heap, not the
// decision. A count of slow decisions per second that stays put while the rate moves points at
// interruptions from outside the decision (a fixed number per second is a larger share of a
// slower round's decisions, so p99 crosses it once they pass 1%). Allocation per decision is measured apart, in short batches between two heap readings.

import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { spread, type Spread } from './samples.ts';

export interface GcWindow { count: number; ms: number; majorCount: number; majorMs: number; minorCount: number; minorMs: number; otherCount: number; otherMs: number }

/** the figures the single-sample bench reported, per round and (as medians) for the run */
interface Figures {
  decisions: number;
  seconds: number;
  decisionsPerSec: number;
  busyDecisionsPerSec: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

export interface Round extends Figures {
  /** the thread's CPU time in the window, and the wall time it was not on a CPU (preempted) */
  threadCpuMs: number;
  offCpuMs: number;
  gc: GcWindow;
  /** the process's involuntary context switches in the window (preemptions; every thread) */
  involuntaryCs: number;
  /** decisions slower than `slowUs`, per second of the round, and how many of them overlapped a GC pause */
  slow: number;
  slowPerSec: number;
  slowInGc: number;
}

/** decisions and seconds: over all rounds; the other figures: medians of the rounds */
export interface InProcessResult extends Figures {
  rounds: Round[];
  spread: { decisionsPerSec: Spread; p99_us: Spread; p50_us: Spread };
  slowUs: number;
  /** bytes allocated on the JS heap per decision (median of batches without a GC) */
  allocBytesPerDecision: number;
  cpuUsPerDecision: number;
  /** the same timing loop around fixed work as long as the median decision: what this machine adds */
  machineFloor: MachineFloor;
}

/** a fixed piece of pure arithmetic (no allocation, no memory beyond registers), timed as decisions are */
export interface MachineFloor {
  workUs: number;
  samplesPerSec: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  /** samples slower than `slowUs` per second: interruptions from outside the work itself */
  slowPerSec: number;
}

const MAX_SAMPLES = 4_000_000;

const gcKind = (e: PerformanceEntry) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;

function gcIn(entries: PerformanceEntry[], from: number, to: number): GcWindow {
  const w: GcWindow = { count: 0, ms: 0, majorCount: 0, majorMs: 0, minorCount: 0, minorMs: 0, otherCount: 0, otherMs: 0 };
  for (const e of entries) {
    if (e.startTime + e.duration < from || e.startTime > to) continue;
    w.count++; w.ms += e.duration;
    const k = gcKind(e);
    if (k === constants.NODE_PERFORMANCE_GC_MAJOR) { w.majorCount++; w.majorMs += e.duration; }
    else if (k === constants.NODE_PERFORMANCE_GC_MINOR) { w.minorCount++; w.minorMs += e.duration; }
    else { w.otherCount++; w.otherMs += e.duration; }
  }
  return w;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `decide(true)` makes one decision (and records its tier/miss); timed one by one for `seconds` in `rounds` rounds. */
export async function timeInProcess(decide: (record: boolean) => void, seconds: number, rounds: number, slowUs: number): Promise<InProcessResult> {
  const entries: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => { entries.push(...list.getEntries()); });
  obs.observe({ entryTypes: ['gc'] });
  const out: Round[] = [];
  // allocated here, after the world's memory was measured
  const lat = new Float64Array(MAX_SAMPLES), at = new Float64Array(MAX_SAMPLES);
  try {
    for (let round = 0; round < rounds; round++) {
      let n = 0;
      const t0 = performance.now();
      const cpu0 = process.threadCpuUsage();
      const cs0 = process.resourceUsage().involuntaryContextSwitches;
      const end = t0 + (seconds / rounds) * 1000;
      while (n < MAX_SAMPLES) {
        if ((n & 1023) === 0 && performance.now() > end) break;
        const s = performance.now();
        decide(true);
        at[n] = s;
        lat[n++] = performance.now() - s;
      }
      const t1 = performance.now();
      const cpu = process.threadCpuUsage(cpu0);
      const involuntaryCs = process.resourceUsage().involuntaryContextSwitches - cs0;
      await turn(); // the GC observer's entries arrive on the event loop
      await turn();
      const window = entries.filter((e) => e.startTime + e.duration >= t0 && e.startTime <= t1);
      let slow = 0, slowInGc = 0;
      for (let i = 0; i < n; i++) {
        if (lat[i] * 1000 <= slowUs) continue;
        slow++;
        const s = at[i], e = s + lat[i];
        if (window.some((g) => g.startTime < e && g.startTime + g.duration > s)) slowInGc++;
      }
      const sorted = lat.subarray(0, n).sort();
      const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))] * 1000;
      let busy = 0;
      for (let i = 0; i < n; i++) busy += sorted[i];
      const wallMs = t1 - t0, threadCpuMs = (cpu.user + cpu.system) / 1000;
      out.push({
        decisions: n, seconds: wallMs / 1000, decisionsPerSec: n / (wallMs / 1000), busyDecisionsPerSec: n / (busy / 1000),
        p50_us: q(0.5), p99_us: q(0.99), p999_us: q(0.999), max_us: sorted[n - 1] * 1000,
        threadCpuMs, offCpuMs: Math.max(0, wallMs - threadCpuMs), gc: gcIn(window, t0, t1), involuntaryCs, slow, slowPerSec: slow / (wallMs / 1000), slowInGc,
      });
      entries.length = 0;
    }
  } finally {
    obs.disconnect();
  }
  const med = (f: (r: Round) => number) => spread(out.map(f)).median;
  const cpuMs = out.reduce((a, r) => a + r.threadCpuMs, 0), decisions = out.reduce((a, r) => a + r.decisions, 0);
  const p50 = med((r) => r.p50_us);
  return {
    rounds: out,
    machineFloor: machineFloor(p50, seconds / rounds, slowUs),
    decisions, seconds: out.reduce((a, r) => a + r.seconds, 0), decisionsPerSec: med((r) => r.decisionsPerSec),
    busyDecisionsPerSec: med((r) => r.busyDecisionsPerSec), p50_us: med((r) => r.p50_us), p99_us: med((r) => r.p99_us),
    p999_us: med((r) => r.p999_us), max_us: med((r) => r.max_us),
    spread: { decisionsPerSec: spread(out.map((r) => r.decisionsPerSec)), p99_us: spread(out.map((r) => r.p99_us)), p50_us: spread(out.map((r) => r.p50_us)) },
    slowUs, allocBytesPerDecision: allocationPerDecision(() => decide(false)), cpuUsPerDecision: (cpuMs * 1000) / decisions,
  };
}

let sink = 0;
/** `iters` rounds of an LCG step: work whose length does not depend on memory or the heap */
function fixedWork(iters: number): void {
  let x = sink;
  for (let i = 0; i < iters; i++) x = (x * 1103515245 + 12345) | 0;
  sink = x;
}

/**
 * The machine's floor under the p99: fixed work of `workUs` timed one by one, exactly as decisions
 * are, for `seconds`. On this VM a loop that does nothing but arithmetic still sees ~1,300 samples
 * a second over 30 µs (interrupts and the host under the VM), so whether p99 stays under the aim
 * depends on the decision's length as much as on anything in it; reported beside the decisions'
 * figures so a reader can tell the two apart.
 */
export function machineFloor(workUs: number, seconds: number, slowUs: number): MachineFloor {
  let iters = 256;
  for (;;) { // calibrate: iterations for workUs
    const s = performance.now();
    for (let k = 0; k < 1000; k++) fixedWork(iters);
    const us = performance.now() - s; // ms for 1000 calls = µs per call
    if (us >= 20) { iters = Math.max(1, Math.round((iters * workUs) / us)); break; }
    iters *= 2;
  }
  const lat = new Float64Array(MAX_SAMPLES);
  let n = 0;
  const t0 = performance.now(), end = t0 + seconds * 1000;
  while (n < MAX_SAMPLES) {
    if ((n & 1023) === 0 && performance.now() > end) break;
    const s = performance.now();
    fixedWork(iters);
    lat[n++] = performance.now() - s;
  }
  const wallS = (performance.now() - t0) / 1000;
  const sorted = lat.subarray(0, n).sort();
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))] * 1000;
  let slow = 0;
  for (let i = n - 1; i >= 0 && sorted[i] * 1000 > slowUs; i--) slow++;
  return { workUs, samplesPerSec: n / wallS, p50_us: q(0.5), p99_us: q(0.99), p999_us: q(0.999), slowPerSec: slow / wallS };
}

/** Heap bytes per decision: batches short enough that most see no GC; a batch a GC fell in reads negative and is dropped. */
export function allocationPerDecision(decide: () => void, batch = 256, batches = 200): number {
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const h0 = getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i++) decide();
    const d = getHeapStatistics().used_heap_size - h0;
    if (d > 0) per.push(d / batch);
  }
  return per.length ? spread(per).median : Number.NaN;
}
