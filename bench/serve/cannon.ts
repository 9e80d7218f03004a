// Drive a server with autocannon (programmatic API) for request-rate and many-connection runs:
// small random ranges, where a JavaScript client is fast enough to matter.

import autocannon from 'autocannon';
import type { LoadResult } from './measurement.ts';

export interface CannonOptions {
  origin: string;
  files: Array<{ path: string; bytes: number }>;
  rangeBytes: number;
  seconds: number;
  connections: number;
  /** deterministic per run so both servers see the same kind of sequence */
  random?: () => number;
}

export async function runCannon(o: CannonOptions): Promise<LoadResult> {
  const rnd = o.random ?? Math.random;
  const result = await autocannon({
    url: o.origin,
    connections: o.connections,
    duration: o.seconds,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        setupRequest(req) {
          const f = o.files[Math.floor(rnd() * o.files.length)];
          const len = Math.min(o.rangeBytes, f.bytes);
          const start = Math.floor(rnd() * (f.bytes - len + 1));
          req.path = f.path;
          req.headers = { range: `bytes=${start}-${start + len - 1}` };
          return req;
        },
      },
    ],
  });
  return {
    seconds: result.duration,
    requests: result.requests.total,
    bytes: result.throughput.total,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
