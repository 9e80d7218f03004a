// Run one workload against both servers, alternately: rounds go A,B then B,A so neither server
// always runs first (a cooler machine, a warmer page cache), each after its own warm-up.

import { runCannon } from './cannon.ts';
import { cpuMeter } from './cpu.ts';
import { combine, round3, type LoadResult } from './measurement.ts';
import type { RoundRecord, WorkloadResult } from './results.ts';
import { runWrk, writePathList } from './wrk.ts';
import { meetsTarget, ratioOf, type Workload } from './workloads.ts';

export interface Target {
  name: 'edgebox' | 'nginx';
  origin: string;
  /** root of the server's process tree, for CPU */
  pid: number;
}

export interface RangeFile {
  /** request path including the token query */
  path: string;
  bytes: number;
}

export interface RoundSettings {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  /** scratch directory for wrk's path lists */
  scratch: string;
  log: (msg: string) => void;
}

export function runLoad(w: Workload, t: Target, files: RangeFile[], seconds: number, scratch: string): Promise<LoadResult> {
  if (w.generator === 'wrk') {
    return runWrk({
      origin: t.origin,
      pathList: writePathList(`${scratch}/paths-${w.name}.txt`, files),
      mode: w.distribution,
      minBytes: w.minBytes,
      maxBytes: w.maxBytes,
      seconds,
      threads: 2,
      connections: w.connections,
    });
  }
  return runCannon({ origin: t.origin, files, rangeBytes: w.minBytes, seconds, connections: w.connections });
}

export async function measured(w: Workload, t: Target, files: RangeFile[], seconds: number, scratch: string) {
  const cpu = cpuMeter(t.pid);
  const r = await runLoad(w, t, files, seconds, scratch);
  return { ...r, cpu: cpu() };
}

export async function runWorkload(
  w: Workload,
  targets: [Target, Target],
  files: RangeFile[],
  s: RoundSettings,
): Promise<WorkloadResult> {
  for (const t of targets) {
    if (s.warmupSeconds > 0) await runLoad(w, t, files, s.warmupSeconds, s.scratch);
  }
  const byServer: Record<string, Array<LoadResult & { cpu: number }>> = { edgebox: [], nginx: [] };
  const rounds: RoundRecord[] = [];
  for (let round = 0; round < s.rounds; round++) {
    const order = round % 2 === 0 ? targets : [targets[1], targets[0]];
    for (const t of order) {
      const r = await measured(w, t, files, s.seconds, s.scratch);
      byServer[t.name].push(r);
      const one = combine([r]);
      rounds.push({ server: t.name, round: round + 1, ...one });
      s.log(`${w.name} round ${round + 1} ${t.name}: ${one.gbps} Gb/s, ${one.rps} req/s, ` +
        `p50 ${one.p50_ms} ms, p99 ${one.p99_ms} ms, cpu ${one.cpu}${one.errors ? `, ERRORS ${one.errors}` : ''}`);
    }
  }
  const { errors: ee, ...edgebox } = combine(byServer.edgebox);
  const { errors: ne, ...nginx } = combine(byServer.nginx);
  const ratio = ratioOf(w, edgebox, nginx);
  return {
    name: w.name,
    describe: w.describe,
    main: w.main,
    edgebox,
    nginx,
    ratio: round3(ratio),
    target: w.target ? `${w.target.op} ${w.target.ratio}` : null,
    meets: meetsTarget(w, ratio),
    errors: { edgebox: ee, nginx: ne },
    rounds,
  };
}
