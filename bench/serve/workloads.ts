// The range workloads of the bench, and which figure each is judged on. The viewers workload
// (paced players, judged on the most viewers held) is of another kind: viewers.ts.
// Sizes are chosen for this 2-core, loopback-only machine: the hot set fits the appliance's RAM
// tier with room to spare, the warm set is larger than the whole RAM tier, and the bench stays
// under about five minutes.

import type { Measurement } from './measurement.ts';

export const MiB = 1024 * 1024;

export type MainFigure = 'gbps' | 'rps' | 'p99_ms';

export interface Workload {
  name: 'hot' | 'hot-tls' | 'warm' | 'small' | 'small-wrk' | 'conn1k';
  describe: string;
  main: MainFigure;
  /** target on edgebox/nginx of the main figure; for p99 the ratio must stay at or below it */
  target?: { op: '>=' | '<='; ratio: number };
  generator: 'wrk' | 'autocannon';
  /** which file set the ranges fall in */
  set: 'hot' | 'warm' | 'all';
  minBytes: number;
  maxBytes: number;
  distribution: 'uniform' | 'zipf';
  connections: number;
  /** over HTTPS: both servers with the same certificate and TLS policy (tls-cert.ts) */
  tls?: boolean;
}

export const FILE_BYTES = 8 * MiB;
export const HOT_FILES = 16; // 128 MiB
export const WARM_FILES = 40; // 320 MiB
/** the appliance's RAM tier: holds the hot set, not the warm set */
export const RAM_TIER_BYTES = 192 * MiB;

const HOT: Workload = {
  name: 'hot',
  describe: '1 MiB ranges, uniform over 16 × 8 MiB files (fits the RAM tier); wrk 2 threads × 16 connections',
  main: 'gbps',
  target: { op: '>=', ratio: 1.0 },
  generator: 'wrk',
  set: 'hot',
  minBytes: MiB,
  maxBytes: MiB,
  distribution: 'uniform',
  connections: 16,
};

export const WORKLOADS: Workload[] = [
  HOT,
  {
    // the same hot workload over HTTPS: TLS 1.3 on both sides (wrk's OpenSSL and the servers'
    // policy agree on it), one handshake per connection (keep-alive), then bulk AEAD encryption
    ...HOT,
    name: 'hot-tls',
    describe: 'hot over HTTPS: 1 MiB ranges, uniform over 16 × 8 MiB files (fits the RAM tier); same certificate and TLS policy on both; wrk 2 threads × 16 connections',
    target: undefined,
    tls: true,
  },
  {
    name: 'warm',
    describe: '1–2 MiB ranges, Zipf (s = 1) over 40 × 8 MiB files (larger than the RAM tier); wrk 2 threads × 16 connections',
    main: 'gbps',
    generator: 'wrk',
    set: 'warm',
    minBytes: MiB,
    maxBytes: 2 * MiB,
    distribution: 'zipf',
    connections: 16,
  },
  {
    name: 'small',
    describe: '2 KiB ranges, uniform over all 56 files; autocannon 64 connections',
    main: 'rps',
    target: { op: '>=', ratio: 0.6 },
    generator: 'autocannon',
    set: 'all',
    minBytes: 2048,
    maxBytes: 2048,
    distribution: 'uniform',
    connections: 64,
  },
  {
    // a cross-check, not a target: autocannon's single JavaScript thread saturates before either
    // server on 2 KiB ranges, so wrk shows what the servers themselves can answer
    name: 'small-wrk',
    describe: 'cross-check of small with a native client: 2 KiB ranges, uniform over all 56 files; wrk 2 threads × 64 connections',
    main: 'rps',
    generator: 'wrk',
    set: 'all',
    minBytes: 2048,
    maxBytes: 2048,
    distribution: 'uniform',
    connections: 64,
  },
  {
    name: 'conn1k',
    describe: '2 KiB ranges over all files from 1,000 concurrent connections; autocannon',
    main: 'p99_ms',
    target: { op: '<=', ratio: 2.0 },
    generator: 'autocannon',
    set: 'all',
    minBytes: 2048,
    maxBytes: 2048,
    distribution: 'uniform',
    connections: 1000,
  },
];

/** Every name BENCH_WORKLOADS accepts: the range workloads here, then the viewers workload. */
export const WORKLOAD_NAMES: string[] = [...WORKLOADS.map((w) => w.name), 'viewers'];

export function ratioOf(w: Workload, edgebox: Measurement, nginx: Measurement): number {
  const a = edgebox[w.main];
  const b = nginx[w.main];
  return b > 0 ? Math.round((a / b) * 1000) / 1000 : 0;
}

export function meetsTarget(w: Workload, ratio: number): boolean | null {
  if (!w.target) return null;
  return w.target.op === '>=' ? ratio >= w.target.ratio : ratio <= w.target.ratio;
}
