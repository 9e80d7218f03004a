// bench/results/fill.json and fill.md: the four figures the issue asks for at the top level
// (unthrottledMBps, rateLimitErrorPct, viewerThroughputLossPct, originShare), each part's detail,
// and the machine it ran on with its load before and after.

import { writeResultFiles } from '../result-files.ts';
import type { Machine } from '../machine.ts';
import { round3 } from '../serve/measurement.ts';
import type { DiskCeiling } from './disk-ceiling.ts';
import type { OriginShareResult } from './origin-share.ts';
import type { PeerFillResult, RateLimitedResult } from './peer-fill.ts';
import type { ViewerResult } from './viewers.ts';

export interface Aim { figure: string; aim: string; value: number | null; met: boolean | null }

export interface FillResults {
  bench: 'fill';
  date: string;
  node: string;
  machine: Machine;
  settings: Record<string, unknown>;
  /** (a) MB/s (10^6 bytes/s), one appliance filling from a peer, no rate limit */
  unthrottledMBps: number | null;
  /** (b) (achieved − limit) ÷ limit in percent, signed (negative = under the limit), steady part of the transfer */
  rateLimitErrorPct: number | null;
  /** (c) viewer Gb/s lost while a rate-limited fill runs, percent of the no-fill figure (median over alternating rounds) */
  viewerThroughputLossPct: number | null;
  /** (d) origin bytes ÷ fill bytes in the 3-appliance site, 0–1 */
  originShare: number | null;
  aims: Aim[];
  /** (a) with the disk's own ceiling for the fill's write pattern, measured just before it */
  unthrottled: (PeerFillResult & { diskCeiling: DiskCeiling | null }) | null;
  rateLimited: RateLimitedResult | null;
  viewers: ViewerResult | null;
  cluster: OriginShareResult | null;
  notes: string[];
}

export function aims(r: Pick<FillResults, 'unthrottledMBps' | 'rateLimitErrorPct' | 'viewerThroughputLossPct' | 'originShare'>): Aim[] {
  const aim = (figure: string, text: string, value: number | null, ok: (v: number) => boolean): Aim =>
    ({ figure, aim: text, value, met: value === null ? null : ok(value) });
  return [
    aim('unthrottledMBps', '≥ 500 MB/s', r.unthrottledMBps, (v) => v >= 500),
    aim('rateLimitErrorPct', 'within ±5 %', r.rateLimitErrorPct, (v) => Math.abs(v) <= 5),
    aim('viewerThroughputLossPct', '≤ 10 %', r.viewerThroughputLossPct, (v) => v <= 10),
    aim('originShare', '≤ 1/3', r.originShare, (v) => v <= 1 / 3 + 1e-9),
  ];
}

export function writeResults(dir: string, r: FillResults): { json: string; md: string } {
  return writeResultFiles(dir, 'fill', r, markdown(r));
}

const mib = (b: number) => Math.round(b / 2 ** 20);
const show = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '—' : `${v}${unit}`);

export function markdown(r: FillResults): string {
  const L: string[] = [];
  L.push('# Fill bench', '');
  L.push(`- date: ${r.date}`, `- node: ${r.node}`);
  L.push(`- machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory_gib} GiB, Linux ${r.machine.kernel}; ` +
    `load average ${r.machine.loadavg_start} at start, ${r.machine.loadavg_end} at end (shared with other work)`);
  L.push(`- settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')}`, '');
  L.push('| part | figure | value | aim | met |', '|---|---|---:|---|---|');
  const part: Record<string, string> = {
    unthrottledMBps: '(a) peer fill, no limit', rateLimitErrorPct: '(b) peer fill, rate limit',
    viewerThroughputLossPct: '(c) viewers during a fill', originShare: '(d) 3 + 1 cluster',
  };
  for (const a of r.aims) L.push(`| ${part[a.figure]} | ${a.figure} | ${show(a.value)} | ${a.aim} | ${a.met === null ? '—' : a.met ? '✅' : '❌'} |`);
  L.push('');
  const pct = (share: number) => round3(share * 100);
  if (r.unthrottled) {
    const u = r.unthrottled;
    L.push('## (a) One appliance filling from a peer, no rate limit', '');
    L.push(`${mib(u.bytes)} MiB in ${u.seconds} s = **${u.MBps} MB/s**; the filling appliance used ${u.cpuCores} cores ` +
      `(${u.cpuSecondsPerGiB} CPU-s per GiB; ${u.fillCpuSecondsPerGiB} less its idle ${u.idleCpuCores} cores), the serving peer ${u.peerCpuCores} cores. ` +
      `Bytes by source level: peer ${mib(u.bytesByLevel.peer)} MiB, tier ${mib(u.bytesByLevel.tier)} MiB, origin ${mib(u.bytesByLevel.origin)} MiB.` +
      (u.pipeline ? ` The downloads took ${u.pipeline.fetchSeconds} s in all, waiting ${pct(u.pipeline.sourceWaitShare)} % of it for the peer's next bytes and ${pct(u.pipeline.storeWaitShare)} % for a write slot` +
        (u.pipeline.storeWriteWaitShare !== undefined
          ? ` — ${pct(u.pipeline.storeWriteWaitShare)} % on appends whose writes were in flight (disk), ${pct(u.pipeline.storeHashWaitShare)} % on appends whose hash alone was left (hash thread); appends averaged ${round3(u.pipeline.meanAppendBytes / 2 ** 20)} MiB. ` +
            `The hash thread was hashing ${pct(u.pipeline.hashThreadBusyShare)} % of the transfer's time (${u.pipeline.hashThreadCpuSecondsPerGiB} CPU-s per GiB); the main thread used ${u.mainThreadCpuSecondsPerGiB} CPU-s per GiB.`
          : ' (disk, hash thread).') : '') +
      (u.diskCeiling ? ` The disk alone, the same write pattern just before (${u.diskCeiling.files} files × ${u.diskCeiling.depth} writes of ${mib(u.diskCeiling.batchBytes)} MiB in flight${u.diskCeiling.direct ? ', O_DIRECT' : ', buffered'}, fsync per file, ${mib(u.diskCeiling.bytes)} MiB, no socket and no hash): ` +
        `**${u.diskCeiling.MBps} MB/s** (${u.diskCeiling.cpuSecondsPerGiB} CPU-s per GiB) — the fill ran at ${round3((u.MBps / u.diskCeiling.MBps) * 100)} % of it.` : ''), '');
  }
  if (r.rateLimited) {
    const b = r.rateLimited;
    L.push('## (b) The same with a rate limit', '');
    L.push(`Limit ${round3(b.limitBps / 1e6)} Mb/s (${b.limitMBps} MB/s). Steady rate (10–90 % of the bytes) **${b.steadyMBps} MB/s**, ` +
      `error ${b.errorPct} %; whole transfer ${mib(b.bytes)} MiB in ${b.seconds} s = ${b.MBps} MB/s (${b.wholeErrorPct} %, includes start-up: manifest fetch, first requests, the bucket's first burst). ` +
      `CPU ${b.cpuCores} cores, ${b.cpuSecondsPerGiB} CPU-s per GiB (${b.fillCpuSecondsPerGiB} less its idle ${b.idleCpuCores} cores).`, '');
  }
  if (r.viewers) {
    const v = r.viewers;
    L.push('## (c) Viewers with and without a rate-limited fill', '');
    L.push(`Workload: ${v.workload}; ${v.seconds} s rounds, alternating: without, then with and without ${v.pairing.pairs.length} times. ` +
      'Each round with the fill is compared with the mean of the rounds without it on either side; the figure is the median over those pairs. ' +
      'After each switch of the fill the viewers\' load ran unmeasured for a few seconds (the viewer back-off cuts a starting fill to its floor within ~4 s).', '');
    L.push('| | Gb/s | req/s | p50 ms | p99 ms | appliance cpu |', '|---|---:|---:|---:|---:|---:|');
    L.push(`| without fill (all rounds) | ${v.without.gbps} | ${v.without.rps} | ${v.without.p50_ms} | ${v.without.p99_ms} | ${v.without.cpu} |`);
    L.push(`| with fill (${v.fillMBpsDuringRounds} MB/s) | ${v.with.gbps} | ${v.with.rps} | ${v.with.p50_ms} | ${v.with.p99_ms} | ${v.with.cpu} |`);
    const p = v.pairing;
    L.push('', '| pair (round) | baseline Gb/s | with Gb/s | loss % | p99 ms baseline → with |', '|---|---:|---:|---:|---|');
    for (const x of p.pairs) L.push(`| ${x.round} | ${x.baselineGbps} | ${x.withGbps} | ${x.lossPct} | ${x.baselineP99_ms} → ${x.withP99_ms} |`);
    L.push('', `Throughput loss **${v.throughputLossPct} %** (median; pairs from ${p.lossMinPct} to ${p.lossMaxPct} %; pooled rounds ${v.pooledLossPct} %), ` +
      `p99 ${v.p99IncreasePct >= 0 ? '+' : ''}${v.p99IncreasePct} % (median). Rounds without fill ranged ${p.baselineMinGbps}–${p.baselineMaxGbps} Gb/s. ` +
      `Rounds in order: ${v.rounds.map((x) => `${x.fill ? 'with' : 'without'} ${x.gbps} Gb/s${x.fill && x.fillActiveAtEnd === false ? ' (fill ended early: not paired)' : ''}`).join(', ')}.`, '');
  }
  if (r.cluster) {
    const c = r.cluster;
    L.push('## (d) The 3 + 1 cluster: where fill bytes came from', '');
    L.push(`Catalogue ${c.files} files, ${mib(c.catalogueBytes)} MiB, only on the origin at the start; every appliance filled its plan in ${c.seconds} s.`, '');
    L.push('| appliance | site | peer MiB | tier MiB | origin MiB | s |', '|---|---|---:|---:|---:|---:|');
    for (const a of c.appliances) L.push(`| ${a.name} | ${a.siteId} | ${mib(a.bytes.peer)} | ${mib(a.bytes.tier)} | ${mib(a.bytes.origin)} | ${a.seconds} |`);
    L.push('', `Origin share in the 3-appliance site **${c.originShare}** (with the IX appliance ${c.originShareWithIx}); ` +
      `the proxy in front of the origin counted ${mib(c.originBytesSeenByProxy)} MiB to the site.`, '');
  }
  if (r.notes.length > 0) {
    L.push('## Notes', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  return L.join('\n');
}
