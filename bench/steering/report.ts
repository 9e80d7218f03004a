// The markdown table for bench/results/steering.md.

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function renderMarkdown(r: any): string {
  const w = r.world, ip = r.inprocess, h = r.http;
  return [
    `# Steering bench (${r.date})`,
    '',
    `\`${r.command}\` — Node ${r.node}, ${r.machine.cores} × ${r.machine.cpu}, ${r.machine.memory_gib} GiB, load average ${f(r.machine.loadavg_1m_before, 1)} → ${f(r.machine.loadavg_1m_after, 1)} (shared machine)`,
    '',
    `World: ${f(w.prefixes)} prefixes (${f(w.routeEntries)} routes), ${f(w.appliances)} appliances, ${w.titles} titles; built in ${f(w.buildMs / 1000, 1)} s, RSS ${f(w.rssMiB)} MiB.`,
    '',
    '| path | decisions/s | p50 | p99 | samples | errors |',
    '|---|---:|---:|---:|---:|---:|',
    `| in process (parse + steer) | ${f(ip.decisionsPerSec)} | ${f(ip.p50_us, 1)} µs | ${f(ip.p99_us, 1)} µs | ${f(ip.decisions)} | 0 |`,
    `| HTTP, autocannon ${h.connections} conns | ${f(h.requestsPerSec)} | ${f(h.p50_ms, 1)} ms | ${f(h.p99_ms, 1)} ms | ${f(h.requests)} | ${h.errors} |`,
    '',
    `First target tier in process: ${Object.entries(ip.firstTier).map(([k, v]) => `${k} ${f(v as number)}`).join(', ')}; misses: ${Object.entries(ip.misses).map(([k, v]) => `${k} ${f(v as number)}`).join(', ') || 'none'}.`,
    '',
    ...r.notes.map((n: string) => `- ${n}`),
    '',
  ].join('\n');
}
