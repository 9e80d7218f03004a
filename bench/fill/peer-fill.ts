// Parts (a) and (b) of the fill bench: one appliance fills the whole catalogue from a peer of its
// site that already holds it — first with no rate limit (MB/s and the CPU it used), then a fresh
// appliance with a rate limit set for the site (the rate achieved as a share of the limit).
// Both run in one cluster, started by main.ts: site bench-1, window open all day, the peer
// (bench-1-1) published with the catalogue before it started.

import type { Cluster, ClusterAppliance } from '../../scripts/lib/cluster.ts';
import { cpuMeter, threadCpuSeconds } from '../serve/cpu.ts';
import { round3 } from '../serve/measurement.ts';
import { rateBetween, watchFill, wholeTransfer, type FillSample } from './progress.ts';

const IDLE_SAMPLE_MS = 3_000;

export interface PeerFillResult {
  appliance: string;
  bytes: number;
  seconds: number;
  /** 10^6 bytes/s, first byte to last */
  MBps: number;
  /** cores the filling appliance used during the transfer, and CPU-seconds per GiB */
  cpuCores: number;
  cpuSecondsPerGiB: number;
  /** cores the new appliance used idle (joined, nothing to fetch yet), measured just before */
  idleCpuCores: number;
  /** CPU-seconds per GiB less that idle cost over the wait: what the fill itself cost */
  fillCpuSecondsPerGiB: number;
  /** cores the serving peer used meanwhile */
  peerCpuCores: number;
  /**
   * the downloads' time (summed over them, /v1/status fill.pipeline) and the shares of it spent
   * waiting for the peer's next bytes and for a write slot (disk, hash thread): the pipeline's idle
   */
  pipeline: {
    fetchSeconds: number; sourceWaitShare: number; storeWaitShare: number;
    /** of the download time: waiting on an append whose writes were in flight / whose hash alone was left */
    storeWriteWaitShare: number; storeHashWaitShare: number;
    /** the hash thread over the transfer: share of the wall time it was hashing, and its CPU-s per GiB */
    hashThreadBusyShare: number; hashThreadCpuSecondsPerGiB: number;
    /** mean bytes per append (batch handed to the store: one hash message, its writes) */
    meanAppendBytes: number;
  } | null;
  /** CPU-s per GiB of the filling appliance's main thread (sockets, fill, control link) */
  mainThreadCpuSecondsPerGiB: number;
  bytesByLevel: FillSample['byLevel'];
}

export interface RateLimitedResult extends PeerFillResult {
  limitBps: number;
  limitMBps: number;
  /** rate over the middle of the transfer (10%–90% of the bytes), after the bucket's first burst */
  steadyMBps: number;
  /** (steady − limit) ÷ limit, percent: negative when under the limit */
  errorPct: number;
  /** the whole transfer's rate against the limit, percent */
  wholeErrorPct: number;
}

export interface FillRunOptions {
  /** bytes the appliance will want (the catalogue) */
  bytes: number;
  settings: Record<string, unknown>;
  log: (m: string) => void;
  timeoutMs: number;
}

/** A new appliance joins the site; the planner runs; measure its fill until it holds its plan. */
export async function joinAndFill(c: Cluster, peer: ClusterAppliance, o: FillRunOptions): Promise<{ a: ClusterAppliance; r: PeerFillResult; samples: FillSample[] }> {
  const a = await c.addAppliance('bench-1', { settings: o.settings });
  // its idle cost (timers, workers, reports): on a loaded box a slow fill's wait carries a lot of it
  const idle = cpuMeter(a.pid!);
  await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
  const idleCores = idle();
  o.log(`${a.name} joined (pid ${a.pid}, idle ${round3(idleCores)} cores); planning`);
  const watch = watchFill(a, { intervalMs: 200, timeoutMs: o.timeoutMs, minWanted: o.bytes });
  // CPU from the moment bytes flow: start the meters now, and subtract the idle lead-in below
  const cpuA = cpuMeter(a.pid!);
  const main0 = threadCpuSeconds(a.pid!);
  const cpuPeer = cpuMeter(peer.pid!);
  const t0 = performance.now();
  await c.control.api.plan();
  const last = await watch.done;
  const cores = cpuA();
  const mainSeconds = threadCpuSeconds(a.pid!) - main0;
  const peerCores = cpuPeer();
  const wall = (performance.now() - t0) / 1000;
  const p = (await a.status().catch(() => undefined))?.fill?.pipeline as {
    fetchSeconds: number; sourceWaitSeconds: number; storeWaitSeconds: number; storeWriteWaitSeconds?: number; storeHashWaitSeconds?: number; appends?: number; appendedBytes?: number;
    hashThread?: { busySeconds: number; cpuSeconds: number };
  } | undefined;
  const whole = wholeTransfer(watch.samples);
  if (!whole) throw new Error(`${a.name}: no transfer seen in ${watch.samples.length} samples`);
  // cores averaged over the whole wait, re-expressed over the transfer (idle lead-in costs ~0)
  const cpuSeconds = cores * wall;
  const r: PeerFillResult = {
    appliance: a.name,
    bytes: whole.bytes,
    seconds: round3(whole.seconds),
    MBps: round3(whole.MBps),
    cpuCores: round3(cpuSeconds / whole.seconds),
    cpuSecondsPerGiB: round3(cpuSeconds / (whole.bytes / 2 ** 30)),
    idleCpuCores: round3(idleCores),
    fillCpuSecondsPerGiB: round3(Math.max(0, cpuSeconds - idleCores * wall) / (whole.bytes / 2 ** 30)),
    peerCpuCores: round3((peerCores * wall) / whole.seconds),
    pipeline: p && p.fetchSeconds > 0
      ? {
        fetchSeconds: round3(p.fetchSeconds), sourceWaitShare: round3(p.sourceWaitSeconds / p.fetchSeconds), storeWaitShare: round3(p.storeWaitSeconds / p.fetchSeconds),
        storeWriteWaitShare: round3((p.storeWriteWaitSeconds ?? 0) / p.fetchSeconds), storeHashWaitShare: round3((p.storeHashWaitSeconds ?? 0) / p.fetchSeconds),
        // the new appliance hashed nothing before this fill: its totals are this transfer's
        hashThreadBusyShare: round3((p.hashThread?.busySeconds ?? 0) / whole.seconds),
        hashThreadCpuSecondsPerGiB: round3((p.hashThread?.cpuSeconds ?? 0) / (whole.bytes / 2 ** 30)),
        meanAppendBytes: p.appends ? Math.round((p.appendedBytes ?? 0) / p.appends) : 0,
      }
      : null,
    mainThreadCpuSecondsPerGiB: round3(mainSeconds / (whole.bytes / 2 ** 30)),
    bytesByLevel: last.byLevel,
  };
  return { a, r, samples: watch.samples };
}

export function rateLimited(r: PeerFillResult, samples: FillSample[], limitBps: number): RateLimitedResult {
  const total = samples.at(-1)!.fetched - samples[0].fetched;
  const steady = rateBetween(samples, total * 0.1, total * 0.9);
  const limitMBps = limitBps / 8 / 1e6;
  const steadyMBps = steady?.MBps ?? r.MBps;
  return {
    ...r,
    limitBps,
    limitMBps: round3(limitMBps),
    steadyMBps: round3(steadyMBps),
    errorPct: round3(((steadyMBps - limitMBps) / limitMBps) * 100),
    wholeErrorPct: round3(((r.MBps - limitMBps) / limitMBps) * 100),
  };
}
