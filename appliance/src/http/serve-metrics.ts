// Per-worker serving metrics, counted in plain numbers on the hot path (no prom-client calls per
// request) and handed to the main thread as prom-client's JSON form (getMetricsAsJSON shape).
// The main thread aggregates every worker's JSON with its own registry (daemon/metrics.ts), so
// /metrics shows the box.

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ServeTier } from '../store/types.ts';

/** 'none' for responses that sent no file bytes from a tier (errors, 304, preflight). */
export type TierLabel = ServeTier | 'none';
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const TIERS: readonly TierLabel[] = ['ram', 'ssd', 'hdd', 'none'];
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface TierCounts {
  /** responses by status code */
  byStatus: Map<number, number>;
  bytes: number;
  diskErrors: number;
  /** latency histogram: one count per bucket (non-cumulative) plus +Inf at the end */
  buckets: Float64Array;
  latencySum: number;
  latencyCount: number;
}

function emptyCounts(): TierCounts {
  return { byStatus: new Map(), bytes: 0, diskErrors: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1), latencySum: 0, latencyCount: 0 };
}

export class ServeMetrics {
  #tiers: Record<TierLabel, TierCounts> = { ram: emptyCounts(), ssd: emptyCounts(), hdd: emptyCounts(), none: emptyCounts() };
  /** running totals for the main thread's load figures */
  bytesTotal = 0;
  diskErrorsTotal = 0;
  /** responses in progress */
  inFlightCount = 0;

  response(status: number, tier: TierLabel, seconds: number): void {
    const t = this.#tiers[tier];
    t.byStatus.set(status, (t.byStatus.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    t.buckets[i]++;
    t.latencySum += seconds;
    t.latencyCount++;
  }

  bytes(tier: TierLabel, n: number): void {
    if (n <= 0) return;
    this.#tiers[tier].bytes += n;
    this.bytesTotal += n;
  }

  diskError(tier: TierLabel): void {
    this.#tiers[tier].diskErrors++;
    this.diskErrorsTotal++;
  }

  /** The metrics in prom-client's JSON form, ready for AggregatorRegistry.aggregate. */
  toJSON(): MetricsJson {
    const requests: MetricValue<string>[] = [];
    const bytes: MetricValue<string>[] = [];
    const diskErrors: MetricValue<string>[] = [];
    const latency: (MetricValue<string> & { metricName: string })[] = [];
    for (const tier of TIERS) {
      const t = this.#tiers[tier];
      for (const [status, value] of t.byStatus) requests.push({ labels: { status: String(status), tier }, value });
      if (tier !== 'none') {
        bytes.push({ labels: { tier }, value: t.bytes });
        diskErrors.push({ labels: { tier }, value: t.diskErrors });
      }
      if (t.latencyCount === 0) continue;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += t.buckets[i];
        latency.push({ labels: { le, tier }, value: cumulative, metricName: 'edgebox_http_request_duration_seconds_bucket' });
      });
      latency.push({ labels: { le: '+Inf', tier }, value: t.latencyCount, metricName: 'edgebox_http_request_duration_seconds_bucket' });
      latency.push({ labels: { tier }, value: t.latencySum, metricName: 'edgebox_http_request_duration_seconds_sum' });
      latency.push({ labels: { tier }, value: t.latencyCount, metricName: 'edgebox_http_request_duration_seconds_count' });
    }
    const metric = (name: string, help: string, type: string, values: MetricValue<string>[]) =>
      ({ name, help, type, values, aggregator: 'sum' }) as unknown as MetricObjectWithValues<MetricValue<string>>;
    return [
      metric('edgebox_http_requests_total', 'HTTP responses on the serving port by status code and the tier the body came from', 'counter', requests),
      metric('edgebox_served_bytes_total', 'File body bytes written to clients, by tier', 'counter', bytes),
      metric('edgebox_disk_read_errors_total', 'Disk reads that failed while serving', 'counter', diskErrors),
      metric('edgebox_http_in_flight_requests', 'Requests being answered right now', 'gauge', [{ labels: {}, value: this.inFlightCount }]),
      metric('edgebox_http_request_duration_seconds', 'Time from request to the last byte written, by tier', 'histogram', latency),
    ];
  }
}
