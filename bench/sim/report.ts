// sim.json (top level: the shares at the default storage size) and sim.md (the tables and the
// storage curve).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimResult } from './simulate.ts';
import { CAUSE_MEANING, CAUSES, type Tally } from './tally.ts';

export const GOAL = { embeddedShare: 0.95, edgeShare: 0.98 };

export interface SimRun {
  main: SimResult;
  sweep: { storageTB: number; result: SimResult }[];
  loadBefore: number[];
  loadAfter: number[];
  small: boolean;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)} %`;
const tb = (b: number) => (b / 1e12).toFixed(1);

function tallyJson(t: Tally) {
  const s = t.shares();
  return {
    embeddedShare: r4(s.embeddedShare), ixShare: r4(s.ixShare), originShare: r4(s.originShare), edgeShare: r4(s.edgeShare),
    sessions: t.sessions, servedTB: t.bytes / 1e12,
    bytes: { embedded: t.embedded.bytes, ix: t.ix.bytes, origin: t.origin.bytes },
    misses: Object.fromEntries(CAUSES.map((c) => [c, { ...t.misses[c], share: r4(t.bytes > 0 ? t.misses[c].bytes / t.bytes : 0) }])),
  };
}

export function resultJson(run: SimRun) {
  const m = run.main, s = m.total.shares();
  return {
    embeddedShare: r4(s.embeddedShare),
    ixShare: r4(s.ixShare),
    originShare: r4(s.originShare),
    edgeShare: r4(s.edgeShare),
    storageTB: m.options.storageTB,
    goal: { ...GOAL, met: s.embeddedShare >= GOAL.embeddedShare && s.edgeShare >= GOAL.edgeShare },
    size: run.small ? 'small' : 'full',
    world: m.world,
    total: tallyJson(m.total),
    days: m.days.map((d) => ({ day: d.day, ...tallyJson(d.tally) })),
    nights: m.nights.map((n) => ({ ...n, churnShare: r4(n.churnShare), ofAllowance: r4(n.ofAllowance) })),
    warmStart: m.warmStart,
    sweep: run.sweep.map((p) => {
      const x = p.result.total.shares();
      const nights = p.result.nights;
      return {
        storageTB: p.storageTB, embeddedShare: r4(x.embeddedShare), ixShare: r4(x.ixShare), originShare: r4(x.originShare), edgeShare: r4(x.edgeShare),
        sessions: p.result.total.sessions, days: p.result.options.days, appliances: p.result.world.appliances, sites: p.result.world.sites,
        fillTBPerNight: nights.length > 0 ? nights.reduce((n, y) => n + y.fillBytes, 0) / nights.length / 1e12 : 0,
        misses: Object.fromEntries(CAUSES.map((c) => [c, r4(p.result.total.bytes > 0 ? p.result.total.misses[c].bytes / p.result.total.bytes : 0)])),
        cpuSeconds: Math.round(p.result.cpuSeconds.total),
      };
    }),
    invariants: m.invariants,
    counts: m.counts,
    cpuSeconds: Object.fromEntries(Object.entries(m.cpuSeconds).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    sweepCpuSeconds: Math.round(run.sweep.reduce((n, p) => n + p.result.cpuSeconds.total, 0)),
    loadAverage: { before: run.loadBefore.map((x) => Math.round(x * 100) / 100), after: run.loadAfter.map((x) => Math.round(x * 100) / 100) },
    options: m.options,
  };
}

export function resultMarkdown(run: SimRun): string {
  const m = run.main, o = m.options, w = m.world, s = m.total.shares();
  const met = s.embeddedShare >= GOAL.embeddedShare && s.edgeShare >= GOAL.edgeShare;
  const L: string[] = [];
  L.push('# Fleet simulation (`npm run sim`)', '');
  L.push(`${w.appliances.toLocaleString('en')} appliances in ${w.sites.toLocaleString('en')} sites (${w.embeddedSites} embedded, ${w.ixSites} IX) over ${w.regions.length} regions; ` +
    `${w.titles.toLocaleString('en')} titles × ${w.filesPerTitle} files (${w.catalogueTB.toFixed(0)} TB); ${o.days} days of ${o.sessionsPerDay.toLocaleString('en')} sessions a day after ${o.warmupDays} days of history; ` +
    `${o.storageTB} TB per embedded box, ${o.ixStorageTB} TB per IX box. Control's planner and steering, driven in process. Seed ${o.seed}.`, '');
  L.push(`Load average before ${run.loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${run.loadAfter.map((x) => x.toFixed(2)).join(' / ')}; ` +
    `CPU: ${m.cpuSeconds.total.toFixed(0)} s for this run (planning ${m.cpuSeconds.planning.toFixed(0)} s, fill ${m.cpuSeconds.fill.toFixed(0)} s, sessions ${m.cpuSeconds.sessions.toFixed(0)} s), ` +
    `${run.sweep.reduce((n, p) => n + p.result.cpuSeconds.total, 0).toFixed(0)} s for the sweep.`, '');
  L.push('## Bytes served', '');
  L.push('| | embedded | IX | origin | edge (embedded + IX) |', '|---|---|---|---|---|');
  L.push(`| all ${o.days} days | **${pct(s.embeddedShare)}** | ${pct(s.ixShare)} | ${pct(s.originShare)} | **${pct(s.edgeShare)}** |`);
  for (const d of m.days) {
    const x = d.tally.shares();
    L.push(`| day ${d.day} | ${pct(x.embeddedShare)} | ${pct(x.ixShare)} | ${pct(x.originShare)} | ${pct(x.edgeShare)} |`);
  }
  L.push('', `Goal: ≥ ${pct(GOAL.embeddedShare, 0)} from embedded boxes and ≥ ${pct(GOAL.edgeShare, 0)} from the edge — **${met ? 'met' : 'not met'}** at ${o.storageTB} TB per box.`, '');
  L.push('## Misses (bytes not served by an embedded box), by cause', '');
  L.push('| cause | share of all bytes | sessions | to IX | to origin | meaning |', '|---|---|---|---|---|---|');
  for (const c of CAUSES) {
    const x = m.total.misses[c];
    L.push(`| ${c} | ${pct(m.total.bytes > 0 ? x.bytes / m.total.bytes : 0, 3)} | ${x.sessions.toLocaleString('en')} | ${tb(x.toIx)} TB | ${tb(x.toOrigin)} TB | ${CAUSE_MEANING[c]} |`);
  }
  L.push('', '## Fill per night', '');
  L.push('Night n is each region\'s n-th window (02:00–14:00 local) in the measured days; the plan runs as it opens.', '');
  L.push('| night | filled | evicted | files added | churn (filled ÷ fleet store) | of the windows\' allowance | planned adds | appliances blocked (no space) |', '|---|---|---|---|---|---|---|---|');
  for (const n of m.nights) {
    L.push(`| ${n.night} | ${tb(n.fillBytes)} TB | ${tb(n.evictedBytes)} TB | ${n.filesAdded.toLocaleString('en')} | ${pct(n.churnShare)} | ${pct(n.ofAllowance)} | ${tb(n.plannedAddBytes)} TB | ${n.blockedNoSpace} |`);
  }
  if (run.sweep.length > 0) {
    L.push('', '## Storage per box (sweep)', '');
    const p0 = run.sweep[0].result.options;
    L.push(`Each point: a slice of the world from the same generator and seed — ${p0.appliances.toLocaleString('en')} appliances in ${p0.sites} sites, ` +
      `${p0.days} measured day(s) of ${p0.sessionsPerDay.toLocaleString('en')} sessions a day (a site's share depends on its own store and viewers, so a tenth of the fleet draws the same curve at a tenth of the cost; ` +
      `the row at ${o.storageTB} TB checks that against the full run above).`, '');
    L.push('| TB per box | embedded | IX | origin | edge | box-full | not-filled | fill per night | curve (embedded) |', '|---|---|---|---|---|---|---|---|---|');
    for (const p of run.sweep) {
      const x = p.result.total.shares(), t = p.result.total;
      const nights = p.result.nights;
      const fill = nights.length > 0 ? nights.reduce((n, y) => n + y.fillBytes, 0) / nights.length : 0;
      const bar = '█'.repeat(Math.round(x.embeddedShare * 40));
      L.push(`| ${p.storageTB} | ${pct(x.embeddedShare)} | ${pct(x.ixShare)} | ${pct(x.originShare)} | ${pct(x.edgeShare)} | ${pct(t.misses['box-full'].bytes / t.bytes)} | ${pct(t.misses['not-filled'].bytes / t.bytes)} | ${tb(fill)} TB | \`${bar}\` |`);
    }
  }
  L.push('', '## World', '');
  L.push('| region | time zone | viewers | embedded sites | appliances |', '|---|---|---|---|---|');
  for (const reg of w.regions) L.push(`| ${reg.name} | ${reg.timeZone} | ${pct(reg.viewerShare, 0)} | ${reg.embeddedSites} | ${reg.appliances} |`);
  L.push('', `Appliances per embedded site ${w.appliancesPerEmbeddedSite.min}–${w.appliancesPerEmbeddedSite.max} (median ${w.appliancesPerEmbeddedSite.median}); ` +
    `store per embedded site ${w.storeTBPerEmbeddedSite.min}–${w.storeTBPerEmbeddedSite.max} TB (median ${w.storeTBPerEmbeddedSite.median}); ${w.prefixes.toLocaleString('en')} prefixes, ${w.routeEntries.toLocaleString('en')} routes; ` +
    `${w.releases} releases (${w.promotedReleases} promoted). Fill rate ${o.fillRateBps / 1e9} Gb/s per box, headroom ${pct(o.headroom, 0)}, churn per plan ≤ ${pct(o.churnFraction, 0)} of the store, popularity half-life ${o.halfLifeDays} days, steering top ${o.topK} + ${o.fallbackK} IX.`, '');
  const inv = m.invariants;
  L.push(`Checks: every byte attributed once ${inv.bytesAttributedOnce ? 'yes' : 'NO'}; miss bytes = bytes off the embedded tier ${inv.missBytesEqualOffEmbedded ? 'yes' : 'NO'}; ` +
    `largest window fill ${pct(inv.maxWindowFillOfBound)} of rate × window; fullest box ${pct(inv.maxUsedOfCapacity)} of its store; held bytes match holdings ${inv.usedMatchesHoldings ? 'yes' : 'NO'}; steering's holders match holdings ${inv.steeringMatchesHoldings ? 'yes' : 'NO'}. ` +
    `${m.counts.steered.toLocaleString('en')} steering decisions, ${m.counts.plans} plans, ${m.counts.healthReports.toLocaleString('en')} health reports.`);
  return L.join('\n') + '\n';
}

export function writeResults(dir: string, run: SimRun): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'sim.json'), md = join(dir, 'sim.md');
  writeFileSync(json, JSON.stringify(resultJson(run), null, 2) + '\n');
  writeFileSync(md, resultMarkdown(run));
  return [json, md];
}
