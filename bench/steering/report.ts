// The markdown table for bench/results/steering.md.

const f = (n: number | null | undefined, d = 0) =>
  n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** " (min–max)" of a figure taken in rounds; nothing for a single-sample result */
const range = (s: { min: number; max: number } | undefined, d = 0) => (s ? ` (${f(s.min, d)}–${f(s.max, d)})` : '');

export function renderMarkdown(r: any): string {
  const w = r.world, ip = r.inprocess, h = r.http, hw = r.httpWrk, pb = r.playback, inc = r.incremental;
  const m = r.machine;
  const out = [
    `# Steering bench (${r.date})`,
    '',
    `\`${r.command}\` — Node ${r.node}, ${m.cores} × ${m.cpu}, ${m.memory_gib} GiB, load average ${f(m.loadavg_1m_before, 1)} → ${f(m.loadavg_1m_http, 1)} (HTTP runs) → ${f(m.loadavg_1m_after, 1)} (shared machine)`,
    '',
    `World: ${f(w.prefixes)} prefixes (${f(w.routeEntries)} routes), ${f(w.appliances)} appliances, ${w.titles} titles.`,
    '',
    '| build | |',
    '|---|---:|',
    `| route table built (all first reports applied) | ${f(w.tableBuildMs / 1000, 2)} s |`,
    `| reports made up (bench) / first store flush | ${f(w.generateMs / 1000, 2)} s / ${f(w.flushMs / 1000, 2)} s |`,
    `| whole build (as timed before) | ${f(w.buildMs / 1000, 2)} s |`,
    `| RSS after build (Δ over empty process) | ${f(w.rssMiB)} MiB (+${f(w.rssDeltaMiB)} MiB, ${f(w.bytesPerRoute)} B/route) |`,
    `| of which route table typed arrays | ${f(w.routeTableMiB)} MiB |`,
    '',
    '| path | decisions/s (min–max) | p50 | p99 (min–max) | samples | errors |',
    '|---|---:|---:|---:|---:|---:|',
    `| in process (parse + steer) | ${f(ip.decisionsPerSec)}${range(ip.spread?.decisionsPerSec)} | ${f(ip.p50_us, 1)} µs | ${f(ip.p99_us, 1)} µs${range(ip.spread?.p99_us, 1)} | ${f(ip.decisions)} | 0 |`,
    `| HTTP steering, autocannon ${h.connections} conns | ${f(h.requestsPerSec)} | ${f(h.p50_ms, 1)} ms | ${f(h.p99_ms, 1)} ms | ${f(h.requests)} | ${h.errors} |`,
  ];
  if (hw) out.push(`| HTTP steering, ${hw.client} ${hw.connections} conns | ${f(hw.requestsPerSec)}${range(hw.spread?.requestsPerSec)} | ${f(hw.p50_ms, 2)} ms | ${f(hw.p99_ms, 2)} ms${range(hw.spread?.p99_ms, 2)} | ${f(hw.requests)} | ${hw.errors} |`);
  if (pb) out.push(`| HTTP playback start (POST /v1/playback), ${pb.client} ${pb.connections} conns | ${f(pb.requestsPerSec)}${range(pb.spread?.requestsPerSec)} | ${f(pb.p50_ms, 2)} ms | ${f(pb.p99_ms, 2)} ms${range(pb.spread?.p99_ms, 2)} | ${f(pb.requests)} | ${pb.errors} |`);
  if (ip.rounds) {
    out.push(
      '',
      `In process, ${ip.rounds.length} rounds (median above): ${f(ip.cpuUsPerDecision, 2)} CPU-µs and ${f(ip.allocBytesPerDecision)} heap bytes per decision.`,
      '',
      `| round | decisions/s | p50 | p99 | p99.9 | GC pauses (major) | off CPU (preemptions) | decisions > ${ip.slowUs} µs per s (in a GC pause) |`,
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...ip.rounds.map((x: any, i: number) => `| ${i + 1} | ${f(x.decisionsPerSec)} | ${f(x.p50_us, 1)} µs | ${f(x.p99_us, 1)} µs | ${f(x.p999_us, 1)} µs | ${x.gc.count} × ${f(x.gc.ms, 1)} ms (${x.gc.majorCount} × ${f(x.gc.majorMs, 1)} ms) | ${f(x.offCpuMs)} ms (${f(x.involuntaryCs)}) | ${f(x.slowPerSec)} (${f(x.slowInGc)}) |`),
    );
    const mf = ip.machineFloor;
    if (mf) {
      out.push(
        '',
        `Machine floor: fixed arithmetic of ${f(mf.workUs, 1)} µs (the median decision's length), timed one by one as decisions are, for one round: ${f(mf.samplesPerSec)} samples/s, p50 ${f(mf.p50_us, 1)} µs, p99 ${f(mf.p99_us, 1)} µs, p99.9 ${f(mf.p999_us, 1)} µs, ${f(mf.slowPerSec)} samples over ${ip.slowUs} µs per s. Samples over ${ip.slowUs} µs in this loop come from outside the work (interrupts, the host under the VM); as many per second among the decisions means the same cause.`,
      );
    }
  }
  out.push('', `First target tier in process: ${Object.entries(ip.firstTier).map(([k, v]) => `${k} ${f(v as number)}`).join(', ')}; misses: ${Object.entries(ip.misses).map(([k, v]) => `${k} ${f(v as number)}`).join(', ') || 'none'}.`);
  if (inc) {
    out.push(
      '',
      `Incremental updates: an appliance holding ${f(inc.routesHeld)} routes sends single-prefix deltas at ${f(inc.targetChangesPerSec)}/s.`,
      '',
      '| phase | decisions/s | changes/s | change p50 | change p99 |',
      '|---|---:|---:|---:|---:|',
      `| steady | ${f(inc.steady.decisionsPerSec)} | 0 | – | – |`,
      `| with deltas | ${f(inc.during.decisionsPerSec)} | ${f(inc.during.changesPerSec)} | ${f(inc.during.change_p50_us, 1)} µs | ${f(inc.during.change_p99_us, 1)} µs |`,
      '',
      `Steering rate with deltas ÷ steady: ${f(inc.rateRatio * 100, 1)}% (${inc.rounds?.length ?? 1} alternating rounds: ${(inc.rounds ?? []).map((x: any) => `${f(x.steady.decisionsPerSec / 1000)}k / ${f(x.during.decisionsPerSec / 1000)}k`).join(', ')}). For comparison, the same appliance's full set (${f(inc.routesHeld)} routes) as one report: ${f(inc.fullReplaceMs, 1)} ms; writing its route set to the store's route log as one full entry: ${f(inc.routesPersistMs, 1)} ms (deltas are logged as they come; a full entry is written for a full report or when the deltas outweigh the set).`,
    );
  }
  out.push('', ...r.notes.map((n: string) => `- ${n}`), '');
  return out.join('\n');
}
