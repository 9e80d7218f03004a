// bench/results/serve.json and serve.md: the figures the issue asks for, plus enough context
// (node version, machine, nginx config chosen, per-round numbers) to judge them later.

import { writeResultFiles } from '../result-files.ts';
import type { Machine } from '../machine.ts';
import type { Measurement } from './measurement.ts';
import type { ViewersWorkloadResult } from './viewers.ts';
import type { MainFigure } from './workloads.ts';

export interface RoundRecord {
  server: 'edgebox' | 'nginx';
  round: number;
  gbps: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu: number;
  errors: number;
}

export interface WorkloadResult {
  name: string;
  describe: string;
  main: MainFigure;
  edgebox: Measurement;
  nginx: Measurement;
  ratio: number;
  target: string | null;
  meets: boolean | null;
  errors: { edgebox: number; nginx: number };
  rounds: RoundRecord[];
}

export interface NginxTrial {
  sendfile: 'on' | 'off';
  gbps: number;
  p99_ms: number;
  cpu: number;
}

export interface ServeResults {
  bench: 'serve';
  date: string;
  node: string;
  machine: Machine;
  /** the data set's bytes in the page cache once the workloads had run (fincore), per server's copy;
   * null when no range workload ran (BENCH_WORKLOADS=viewers) */
  page_cache: null | { data_set_bytes: number; nginx_resident_bytes: number; appliance_resident_bytes: number };
  settings: { seconds_per_round: number; rounds: number; warmup_seconds: number };
  nginx: {
    version: string;
    workers: number;
    chosen: { sendfile: 'on' | 'off' };
    trial: NginxTrial[];
    config: string;
  };
  edgebox: {
    workers: number;
    ram_tier_bytes: number;
    /** RAM-tier bytes resident when measuring started (daemon's edgebox_ram_tier_bytes) */
    ram_resident_bytes: number | null;
    hot_set_bytes: number;
    warm_set_bytes: number;
  };
  workloads: WorkloadResult[];
  /** the most concurrent paced players each server holds (viewers.ts), when that workload ran */
  viewers?: ViewersWorkloadResult;
  notes: string[];
}

const FIGURE_LABEL: Record<MainFigure, string> = { gbps: 'Gb/s', rps: 'req/s', p99_ms: 'p99 ms' };

export function writeResults(dir: string, r: ServeResults): { json: string; md: string } {
  return writeResultFiles(dir, 'serve', r, markdown(r));
}

export function markdown(r: ServeResults): string {
  const lines: string[] = [];
  lines.push('# Serve bench: Edgebox appliance vs nginx', '');
  lines.push(`- date: ${r.date}`);
  lines.push(`- node: ${r.node}`);
  lines.push(`- machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory_gib} GiB, Linux ${r.machine.kernel}; ` +
    `load average ${r.machine.loadavg_start} at start, ${r.machine.loadavg_end} at end (shared with other work)`);
  lines.push(`- nginx ${r.nginx.version}: ${r.nginx.workers} workers, sendfile **${r.nginx.chosen.sendfile}** ` + (r.nginx.trial.length > 0
    ? `chosen (trial on the hot workload: ${r.nginx.trial.map((t) => `sendfile ${t.sendfile} ${t.gbps} Gb/s`).join(', ')})`
    : '(not tried: no range workload ran; BENCH_NGINX_SENDFILE)'));
  // a viewers-only run (BENCH_WORKLOADS=viewers) has no range workloads and no appliance of theirs
  if (r.workloads.length > 0) {
    const resident = r.edgebox.ram_resident_bytes === null ? 'unknown' : `${mib(r.edgebox.ram_resident_bytes)} MiB`;
    lines.push(`- appliance: ${r.edgebox.workers} serving workers, RAM tier ${mib(r.edgebox.ram_tier_bytes)} MiB (${resident} resident at start), ` +
      `hot set ${mib(r.edgebox.hot_set_bytes)} MiB, warm set ${mib(r.edgebox.warm_set_bytes)} MiB`);
    lines.push(`- ${r.settings.rounds} rounds × ${r.settings.seconds_per_round} s per server per workload, ` +
      `alternating (A, B, B, A…), after a ${r.settings.warmup_seconds} s warm-up each; figures are totals over rounds, ` +
      'latency percentiles the mean of the rounds\'; cpu = cores used by the server\'s processes', '');
    lines.push('| workload | judged on | edgebox Gb/s | edgebox req/s | edgebox p50 / p99 ms | edgebox cpu | nginx Gb/s | nginx req/s | nginx p50 / p99 ms | nginx cpu | ratio | target |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const w of r.workloads) {
      const e = w.edgebox;
      const n = w.nginx;
      const target = w.target ? `${w.target} ${w.meets ? '✅' : '❌'}` : '—';
      lines.push(`| ${w.name} | ${FIGURE_LABEL[w.main]} | ${e.gbps} | ${e.rps} | ${e.p50_ms} / ${e.p99_ms} | ${e.cpu} | ` +
        `${n.gbps} | ${n.rps} | ${n.p50_ms} / ${n.p99_ms} | ${n.cpu} | ${w.ratio} | ${target} |`);
    }
    lines.push('', 'ratio = edgebox ÷ nginx on the workload\'s main figure (for p99, lower is better).', '');
    lines.push('## Workloads', '');
    for (const w of r.workloads) {
      const errs = w.errors.edgebox + w.errors.nginx > 0 ? ` (errors: edgebox ${w.errors.edgebox}, nginx ${w.errors.nginx})` : '';
      lines.push(`- **${w.name}**: ${w.describe}${errs}`);
    }
  }
  if (r.viewers) lines.push(...viewersSection(r.viewers));
  if (r.notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const n of r.notes) lines.push(`- ${n}`);
  }
  lines.push('', '## nginx config used', '', '```nginx', r.nginx.config.trimEnd(), '```', '');
  return lines.join('\n');
}

function viewersSection(v: ViewersWorkloadResult): string[] {
  const lines = ['', '## Viewers per box', '', `- **viewers**: ${v.describe}`, ''];
  lines.push('| protocol | edgebox max viewers | nginx max viewers | ratio | target |');
  lines.push('|---|---:|---:|---:|---|');
  const shown = (p: 'http' | 'https', server: 'edgebox' | 'nginx') => {
    const s = v.searches.find((x) => x.protocol === p && x.server === server)!;
    // no step failed (the cap, or the step budget, came first): a lower bound
    return `${s.first_fail === null ? '≥ ' : ''}${s.max_viewers}${s.client_saturated ? ' (client-limited)' : ''}`;
  };
  for (const p of ['http', 'https'] as const) {
    lines.push(`| ${p} | ${shown(p, 'edgebox')} | ${shown(p, 'nginx')} | ${v.ratio[p]} | ${v.target} ${v.meets[p] ? '✅' : '❌'} |`);
  }
  lines.push('', '≥: no step failed before the cap or the step budget, so the figure is a lower bound (and so is any ratio with it).');
  lines.push('', 'Steps (judged window; "RAM titles" are those in the appliance\'s RAM tier, the same titles for nginx; ' +
    'cpu = cores used by the server\'s processes and by the client process):', '');
  lines.push('| protocol | server | viewers | pass | on time | on time: RAM / disk titles | late / failed of segments | p50 / p99 ms | Gb/s | server cpu | client cpu | loop p99 ms |');
  lines.push('|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const pc = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
  for (const s of v.steps) {
    lines.push(`| ${s.protocol} | ${s.server} | ${s.viewers} | ${s.pass ? 'yes' : 'no'} | ${pc(s.on_time_share)} | ` +
      `${pc(s.on_time_share_ram_titles)} / ${pc(s.on_time_share_disk_titles)} | ` +
      `${s.segments.late} / ${s.segments.failed} of ${s.segments.requested} | ${s.segment_p50_ms} / ${s.segment_p99_ms} | ${s.gbps} | ` +
      `${s.server_cpu} | ${s.client_cpu} | ${s.loop_delay_p99_ms} |`);
  }
  return lines;
}

function mib(b: number): number {
  return Math.round(b / 1024 / 1024);
}
