// bench/results/soak.json and soak.md: the top-level totalErrors and maxRssGrowthMiB, each
// process's trends after warm-up, the load it ran under, and the hostile burst.

import { writeResultFiles } from '../result-files.ts';
import type { Machine } from '../machine.ts';
import type { HostileCounts } from './hostile.ts';
import type { Trend } from './trend.ts';

export interface ProcessResult {
  name: string;
  kind: string;
  /** more than one: the process was restarted during the soak */
  pids: number[];
  rssMiB: Trend | null;
  heapMiB: Trend | null;
  workerHeapMiB: Trend | null;
  fds: Trend | null;
  loopDelayP99Ms: { median: number; max: number } | null;
  cpuSeconds: number;
  /** errors the load saw from it plus error lines in its log, per minute of the soak */
  errorsPerMinute: number[];
  errors: number;
}

export interface HostileResult {
  target: string;
  seconds: number;
  /** slow header blocks held open at any time */
  slowlorisAtOnce: number;
  counts: HostileCounts;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** 30 s after the burst ended */
  rssAfterMiB: number;
  heapBeforeMiB: number | null;
  heapPeakMiB: number | null;
  heapAfterMiB: number | null;
  fdsPeak: number;
  fdsAfter: number;
  /** a normal range after the burst came back right */
  servesAfter: boolean;
}

export interface SoakResults {
  bench: 'soak';
  date: string;
  node: string;
  command: string;
  machine: Machine;
  settings: Record<string, number | string>;
  /** errors over the whole soak and the burst, all processes */
  totalErrors: number;
  /** the largest RSS growth after warm-up over all processes (MiB) */
  maxRssGrowthMiB: number;
  rssGrowthBoundMiB: number;
  withinBound: boolean;
  load: Record<string, unknown>;
  processes: ProcessResult[];
  hostile: HostileResult | null;
  errorExamples: string[];
  notes: string[];
}

const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
const tr = (t: Trend | null, d = 1) => (t ? `${f(t.atWarmup, d)} → ${f(t.end, d)} (${t.growth >= 0 ? '+' : ''}${f(t.growth, d)}, ${f(t.slopePerMin, 2)}/min)` : '—');

export function markdown(r: SoakResults): string {
  const m = r.machine;
  const L: string[] = ['# Soak bench', ''];
  L.push(`\`${r.command}\` — ${r.date}, Node ${r.node}, ${m.cores} × ${m.cpu}, ${m.memory_gib} GiB, load average ${m.loadavg_start} → ${m.loadavg_end} (shared machine)`, '');
  L.push(`- **total errors: ${r.totalErrors}**`);
  L.push(`- **largest RSS growth after warm-up: ${f(r.maxRssGrowthMiB)} MiB** (bound ${r.rssGrowthBoundMiB} MiB: ${r.withinBound ? 'within' : 'EXCEEDED'})`);
  L.push(`- settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ')}`, '');
  L.push('After warm-up: mean of the first minute → mean of the last minute (growth, least-squares slope).', '');
  L.push('| process | RSS MiB | V8 heap MiB (all threads) | of which serving workers | open fds | loop delay p99 ms (median / max) | CPU s | errors |');
  L.push('|---|---|---|---|---|---|---:|---:|');
  for (const p of r.processes) {
    L.push(`| ${p.name}${p.pids.length > 1 ? ` (RESTARTED: pids ${p.pids.join(', ')})` : ''} | ${tr(p.rssMiB)} | ${tr(p.heapMiB)} | ${tr(p.workerHeapMiB)} | ${tr(p.fds, 0)} | ` +
      `${p.loopDelayP99Ms ? `${f(p.loopDelayP99Ms.median)} / ${f(p.loopDelayP99Ms.max)}` : '—'} | ${f(p.cpuSeconds, 0)} | ${p.errors} |`);
  }
  L.push('', '## Load', '', '```json', JSON.stringify(r.load, null, 2), '```', '');
  if (r.hostile) {
    const h = r.hostile;
    L.push('## Hostile burst', '');
    L.push(`${h.seconds} s against ${h.target}, the soak's load stopped: ${h.slowlorisAtOnce} slowloris connections at a time (${h.counts.slowloris} in all), ${h.counts.garbage} non-HTTP ` +
      `connections, ${h.counts.refused} refused requests, ${h.counts.dropped} downloads dropped after the first chunk.`, '');
    L.push('| | before | peak | 30 s after |', '|---|---:|---:|---:|');
    L.push(`| RSS MiB | ${f(h.rssBeforeMiB)} | ${f(h.rssPeakMiB)} | ${f(h.rssAfterMiB)} |`);
    L.push(`| V8 heap MiB | ${f(h.heapBeforeMiB)} | ${f(h.heapPeakMiB)} | ${f(h.heapAfterMiB)} |`);
    L.push(`| open fds | | ${h.fdsPeak} | ${h.fdsAfter} |`, '');
    L.push(`A normal range after the burst: ${h.servesAfter ? 'served right' : 'FAILED'}.`, '');
  }
  if (r.errorExamples.length > 0) L.push('## Errors (first few)', '', ...r.errorExamples.map((e) => `- \`${e.replaceAll('`', "'")}\``), '');
  L.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}

export function writeResults(dir: string, r: SoakResults): { json: string; md: string } {
  return writeResultFiles(dir, 'soak', r, markdown(r));
}
