// Part (c) of the fill bench: the serve bench's hot workload (wrk, 1 MiB ranges over a RAM-tier
// hot set) against one appliance, without a fill and while it fills at the site's rate limit.
// The appliance (bench-1-4) starts with the hot set published and ranked; the site's window is
// closed, so it fills only when the operator forces it (POST /v1/appliances/:id/fill-now), which
// is what switches the fill on between rounds. Rounds: without, with, without again after the
// fill was stopped; the two "without" rounds are averaged.

import { fileUrl, signToken } from '../../protocol/index.ts';
import type { Cluster, ClusterAppliance } from '../../scripts/lib/cluster.ts';
import { combine, round3, type Measurement } from '../serve/measurement.ts';
import { measured, runLoad, type RangeFile, type Target } from '../serve/rounds.ts';
import { WORKLOADS } from '../serve/workloads.ts';
import type { BenchFile } from '../serve/dataset.ts';

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
  without: Measurement;
  with: Measurement;
  /** (without − with) ÷ without on Gb/s, percent */
  throughputLossPct: number;
  p99IncreasePct: number;
  /** MB/s the fill achieved during the "with" round(s) */
  fillMBpsDuringRounds: number;
  rounds: ViewerRound[];
}

export interface ViewerOptions {
  hot: BenchFile[];
  seconds: number;
  warmupSeconds: number;
  scratch: string;
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

  if (o.warmupSeconds > 0) await runLoad(hotWorkload, target, files, o.warmupSeconds, o.scratch);
  const without1 = await round(false);
  // switch the fill on: forced outside the (closed) window, for this appliance only
  const forced = await c.control.api.op('POST', `/v1/appliances/${v.applianceId}/fill-now`, { minutes: 60 });
  if (forced.status !== 200) throw new Error(`fill-now answered ${forced.status}: ${forced.text}`);
  const started = Date.now();
  while ((await fillBytes(v)).bytes === 0) {
    if (Date.now() - started > 60_000) throw new Error(`${v.name} did not start filling within 60 s of fill-now`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const withR = await round(true);
  const off = await c.control.api.op('POST', `/v1/appliances/${v.applianceId}/fill-now`, { minutes: 0 });
  if (off.status !== 200) throw new Error(`ending fill-now answered ${off.status}: ${off.text}`);
  // wait for the downloads in flight to stop, so the last round is without fill
  const stopBy = Date.now() + 60_000;
  while ((await fillBytes(v)).active && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 250));
  const without2 = await round(false);

  const without = combine([without1, without2].map((r) => ({ ...r })));
  const withM = combine([withR]);
  const withRound = rounds.find((r) => r.fill)!;
  const strip = ({ errors: _e, ...m }: Measurement & { errors: number }) => m;
  return {
    workload: hotWorkload.describe,
    seconds: o.seconds,
    without: strip(without),
    with: strip(withM),
    throughputLossPct: round3(without.gbps > 0 ? ((without.gbps - withM.gbps) / without.gbps) * 100 : 0),
    p99IncreasePct: round3(without.p99_ms > 0 ? ((withM.p99_ms - without.p99_ms) / without.p99_ms) * 100 : 0),
    fillMBpsDuringRounds: round3((withRound.fillBytes ?? 0) / o.seconds / 1e6),
    rounds,
  };
}
