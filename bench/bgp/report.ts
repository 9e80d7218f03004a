// The markdown for bench/results/bgp.md.

const f = (n: number | null | undefined, d = 0) =>
  n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function renderMarkdown(r: any): string {
  const s = r.speaker, t = r.table, rep = r.report, m = r.machine;
  return [
    `# BGP full-table bench (${r.date})`,
    '',
    `\`${r.command}\` — Node ${r.node}, ${m.cores} × ${m.cpu}, ${m.memory_gib} GiB, load average ${f(m.loadavg_1m_before, 1)} → ${f(m.loadavg_1m_after, 1)} (shared machine)`,
    '',
    `Table: ${f(t.routes)} routes (${f(t.ipv4)} IPv4, ${f(t.ipv6)} IPv6), ${f(t.attributeSets)} attribute sets, from ${t.router}.`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| **Established → End-of-RIB** (fullTableSeconds) | **${f(r.fullTableSeconds, 2)} s** (${f(s.routesPerSecond)} routes/s, ${f(s.updates)} UPDATEs) |`,
    `| CPU during the load: speaker / BIRD | ${f(s.cpuSeconds, 2)} s / ${f(t.birdCpuSeconds, 2)} s |`,
    `| **memory per route** (bytesPerRoute: RSS Δ after GC) | **${f(r.bytesPerRoute)} B** (heap alone ${f(s.heapBytesPerRoute)} B) |`,
    `| speaker RSS before / with the table / peak during the load | ${f(s.rssBeforeMiB)} MiB / ${f(s.rssAfterMiB)} MiB / ${f(s.peakRssMiB)} MiB |`,
    `| after 10 s idle: RSS, per route | ${f(s.rssIdleMiB)} MiB, ${f(s.idleRssBytesPerRoute)} B |`,
    `| V8 young generation committed after the load | ${f(s.newSpaceAfterMiB)} MiB${s.nodeFlags ? ` (node ${s.nodeFlags})` : ''} |`,
    `| attribute sets held | ${f(s.attributeSetsHeld)} |`,
    `| full report to control (grouped) | ${f(rep.fullSync.bytes / 2 ** 20, 1)} MiB (${f(rep.fullSync.bytesPerRoute, 1)} B/route), control holds it after ${f(rep.fullSync.seconds, 2)} s |`,
    `| ${f(rep.withdraw.routesAfter === undefined ? 0 : t.routes - rep.withdraw.routesAfter)} routes withdrawn at BIRD → control | ${f(rep.withdraw.controlSeconds, 2)} s, report ${rep.withdraw.reportBytes.map((b: number) => f(b)).join(' + ')} B (${rep.withdraw.deltaReports} delta, ${rep.withdraw.fullReports} full), hashes equal: ${rep.withdraw.hashEqual} |`,
    `| announced again → control | ${f(rep.announce.controlSeconds, 2)} s, report ${rep.announce.reportBytes.map((b: number) => f(b)).join(' + ')} B (${rep.announce.deltaReports} delta, ${rep.announce.fullReports} full), hashes equal: ${rep.announce.hashEqual} |`,
    '',
    `BIRD took ${f(t.birdLoadSeconds, 1)} s to parse and load the table (before the session; not part of the figure).`,
    '',
    ...r.notes.map((n: string) => `- ${n}`),
    '',
  ].join('\n');
}
