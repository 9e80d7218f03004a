// Part (c) of the fill bench: the serve bench's hot workload (wrk, 1 MiB ranges over a RAM-tier
// hot set) against one appliance, without a fill and while it fills at the site's rate limit.
// The appliance (bench-1-4) starts with the hot set published and ranked; the site's window is
// closed, so it fills only when the operator forces it (POST /v1/appliances/:id/fill-now), which
// is what switches the fill on and off between rounds. Rounds alternate: without, then `pairs`
// times with, without — each round with the fill is compared with the two without it on either
// side, and the figure is the median over the pairs (viewer-pairs.ts: why). A stopped fill keeps
// its partials, so each "with" round resumes where the last one stopped. After each switch the
// viewers' load runs `settleSeconds` unmeasured: the viewer back-off (fill/viewer-yield.ts) needs
// about 4 ticks to cut a starting fill to its floor, and the figure is for a fill that runs.

import { fileUrl, signToken } from '../../protocol/index.ts';
import type { Cluster, ClusterAppliance } from '../../scripts/lib/cluster.ts';
import { combine, round3, type Measurement } from '../serve/measurement.ts';
import { measured, runLoad, type RangeFile, type Target } from '../serve/rounds.ts';
import { WORKLOADS } from '../serve/workloads.ts';
import type { BenchFile } from '../serve/dataset.ts';
import { viewerPairs, type PairSummary } from './viewer-pairs.ts';

export interface ViewerRound {
  fill: boolean;
  gbps: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu: number;
  errors: number;
  /** with fill: bytes the appliance fetched during the round and whether it was still filling at its end */
  fillBytes?: number;
  fillActiveAtEnd?: boolean;
}

export interface ViewerResult {
  workload: string;
  seconds: number;
  /** all rounds without fill, and all usable rounds with it, pooled */
  without: Measurement;
  with: Measurement;
  /** median over the pairs of (baseline − with) ÷ baseline on Gb/s, percent (viewer-pairs.ts); null: no pair */
  throughputLossPct: number | null;
  /** median over the pairs of the p99's increase, percent */
  p99IncreasePct: number;
  /** the old figure, for comparison: pooled rounds without against pooled rounds with */
  pooledLossPct: number | null;
  /** MB/s the fill achieved during the "with" round(s) */
  fillMBpsDuringRounds: number;
  /** each "with" round against the rounds either side of it, the losses' spread, the baseline's swing */
  pairing: PairSummary;
  rounds: ViewerRound[];
}

export interface ViewerOptions {
  hot: BenchFile[];
  seconds: number;
  warmupSeconds: number;
  scratch: string;
  /** rounds with the fill (each between two without) */
  pairs: number;
  /** unmeasured viewer load before each round after the fill was switched on or off */
  settleSeconds: number;
  log: (m: string) => void;
}

async function fillBytes(a: ClusterAppliance): Promise<{ bytes: number; active: boolean }> {
  const st = (await a.status()).fill;
  const b = st.bytesBySource;
  return { bytes: b.peer + b.tier + b.origin, active: (st.active?.length ?? 0) > 0 };
}

export async function viewersWithAndWithoutFill(c: Cluster, v: ClusterAppliance, o: ViewerOptions): Promise<ViewerResult> {
  const hotWorkload = WORKLOADS.find((w) => w.name === 'hot')!;
  const exp = Math.floor(Date.now() / 1000) + 3 * 3600;
  const token = signToken({ kid: c.secrets.tokenKid, secret: c.secrets.tokenSecret, exp, title: o.hot[0].titleId });
  const files: RangeFile[] = o.hot.map((f) => ({ path: fileUrl('', f.fileId, token), bytes: f.bytes }));
  const target: Target = { name: 'edgebox', origin: v.origin, pid: v.pid! };
  const rounds: ViewerRound[] = [];
  const round = async (fill: boolean) => {
    const before = fill ? await fillBytes(v) : undefined;
    const r = await measured(hotWorkload, target, files, o.seconds, o.scratch);
    const after = fill ? await fillBytes(v) : undefined;
    const one = combine([r]);
    const rec: ViewerRound = { fill, ...one };
    if (before && after) {
      rec.fillBytes = after.bytes - before.bytes;
      rec.fillActiveAtEnd = after.active;
    }
    rounds.push(rec);
    o.log(`viewers ${fill ? 'WITH' : 'without'} fill: ${one.gbps} Gb/s, p99 ${one.p99_ms} ms, cpu ${one.cpu}` +
      `${rec.fillBytes !== undefined ? `, fill ${round3(rec.fillBytes / o.seconds / 1e6)} MB/s${rec.fillActiveAtEnd ? '' : ' (fill ENDED during the round)'}` : ''}` +
      `${one.errors ? `, ERRORS ${one.errors}` : ''}`);
    return r;
  };

  /** the generator's results, in the order (and at the index) of `rounds` */
  const results: Array<{ fill: boolean; r: Awaited<ReturnType<typeof round>> }> = [];
  const fillNow = async (minutes: number) => {
    const res = await c.control.api.op('POST', `/v1/appliances/${v.applianceId}/fill-now`, { minutes });
    if (res.status !== 200) throw new Error(`fill-now ${minutes} answered ${res.status}: ${res.text}`);
  };

  const settle = async () => {
    if (o.settleSeconds > 0) await runLoad(hotWorkload, target, files, o.settleSeconds, o.scratch);
  };

  if (o.warmupSeconds > 0) await runLoad(hotWorkload, target, files, o.warmupSeconds, o.scratch);
  results.push({ fill: false, r: await round(false) });
  for (let i = 0; i < o.pairs; i++) {
    // switch the fill on: forced outside the (closed) window, for this appliance only
    const base = (await fillBytes(v)).bytes;
    await fillNow(60);
    const started = Date.now();
    while ((await fillBytes(v)).bytes === base) {
      if (Date.now() - started > 60_000) throw new Error(`${v.name} did not start filling within 60 s of fill-now`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // the viewers' load runs a while before the round is measured: the engine's viewer back-off
    // halves the fill's rate once a second from the full limit down to its floor, and the round is
    // to measure a fill that runs, not one that starts (each start begins at the full rate again)
    await settle();
    const withR = await round(true);
    // (a round in which the fill ran out is kept in the record but not paired: viewer-pairs.ts)
    const ranOut = rounds.at(-1)!.fillActiveAtEnd === false;
    results.push({ fill: true, r: withR });
    await fillNow(0);
    // wait for the downloads in flight to stop, so the next round is without fill
    const stopBy = Date.now() + 60_000;
    while ((await fillBytes(v)).active && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 250));
    await settle(); // the same lead-in as the rounds with the fill
    results.push({ fill: false, r: await round(false) });
    if (ranOut) {
      o.log(`the fill ran out of files during round ${rounds.length - 1}: no more rounds with it`);
      break;
    }
  }

  const pairing = viewerPairs(rounds);
  if (pairing.lossPct === null) o.log('(c): NO round had the fill running from start to end (it ran out of files): no figure');
  const withRounds = new Set(pairing.pairs.map((p) => p.round));
  const without = combine(results.filter((x) => !x.fill).map((x) => x.r));
  const withM = combine(results.filter((x, i) => x.fill && withRounds.has(i)).map((x) => x.r));
  const used = rounds.filter((_, i) => withRounds.has(i));
  const strip = ({ errors: _e, ...m }: Measurement & { errors: number }) => m;
  o.log(`(c) per pair: ${pairing.pairs.map((p) => `${p.lossPct} %`).join(', ')}; baseline ${pairing.baselineMinGbps}–${pairing.baselineMaxGbps} Gb/s`);
  return {
    workload: hotWorkload.describe,
    seconds: o.seconds,
    without: strip(without),
    with: strip(withM),
    throughputLossPct: pairing.lossPct,
    p99IncreasePct: pairing.p99IncreasePct ?? 0,
    pooledLossPct: used.length > 0 && without.gbps > 0 ? round3(((without.gbps - withM.gbps) / without.gbps) * 100) : null,
    fillMBpsDuringRounds: round3(used.reduce((n, r) => n + (r.fillBytes ?? 0), 0) / (o.seconds * Math.max(1, used.length)) / 1e6),
    pairing,
    rounds,
  };
}
