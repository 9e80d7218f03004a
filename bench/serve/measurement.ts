// One load run against one server, in the units serve.json reports.

export interface Measurement {
  gbps: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** cores used by the server's processes during the run */
  cpu: number;
}

/** A run as the generator saw it, before CPU is attached. */
export interface LoadResult {
  seconds: number;
  requests: number;
  /** response bytes including headers, as the generator counts them */
  bytes: number;
  p50_ms: number;
  p99_ms: number;
  /** connection errors, timeouts and unexpected statuses: any of these makes the run suspect */
  errors: number;
}

/** Combine rounds: totals for rates, mean of the rounds' percentiles for latency. */
export function combine(rounds: Array<LoadResult & { cpu: number }>): Measurement & { errors: number } {
  const seconds = sum(rounds.map((r) => r.seconds));
  const n = rounds.length || 1;
  return {
    gbps: round3(seconds > 0 ? (sum(rounds.map((r) => r.bytes)) * 8) / seconds / 1e9 : 0),
    rps: Math.round(seconds > 0 ? sum(rounds.map((r) => r.requests)) / seconds : 0),
    p50_ms: round3(sum(rounds.map((r) => r.p50_ms)) / n),
    p99_ms: round3(sum(rounds.map((r) => r.p99_ms)) / n),
    cpu: round3(sum(rounds.map((r) => r.cpu * r.seconds)) / (seconds || 1)),
    errors: sum(rounds.map((r) => r.errors)),
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
