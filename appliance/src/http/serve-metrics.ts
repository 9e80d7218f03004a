// Per-worker serving metrics, counted in plain numbers on the hot path (no prom-client calls per
// request) and handed to the main thread as prom-client's JSON form (getMetricsAsJSON shape).
// The main thread aggregates every worker's JSON with its own registry (daemon/metrics.ts), so
// /metrics shows the box.

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ServeTier } from '../store/types.ts';

/**
 * 'none' for responses that sent no file bytes from a tier (errors, 304, preflight); 'fill' for
 * a miss streamed from its download while it is written.
 */
export type TierLabel = ServeTier | 'fill' | 'none';
/** How a viewer's request for a file the store did not hold ended. */
export type MissOutcome = 'filled_through' | 'not_wanted' | 'failed';
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const TIERS: readonly TierLabel[] = ['ram', 'ssd', 'hdd', 'fill', 'none'];
const MISS_OUTCOMES: readonly MissOutcome[] = ['filled_through', 'not_wanted', 'failed'];
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
  #tiers: Record<TierLabel, TierCounts> = { ram: emptyCounts(), ssd: emptyCounts(), hdd: emptyCounts(), fill: emptyCounts(), none: emptyCounts() };
  /** peer (fill) responses by status, and their body bytes by status */
  #peerRequests = new Map<number, number>();
  #peerBytes = new Map<number, number>();
  /** peer body bytes whose write the peer rate limit delayed, and the delay summed */
  peerPacedBytes = 0;
  peerPacingSeconds = 0;
  #misses: Record<MissOutcome, number> = { filled_through: 0, not_wanted: 0, failed: 0 };
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

  peerResponse(status: number, bytes: number): void {
    this.#peerRequests.set(status, (this.#peerRequests.get(status) ?? 0) + 1);
    if (bytes <= 0) return;
    this.#peerBytes.set(status, (this.#peerBytes.get(status) ?? 0) + bytes);
    this.bytesTotal += bytes;
  }

  miss(outcome: MissOutcome): void {
    this.#misses[outcome]++;
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
    const byStatus = (m: Map<number, number>) => [...m].map(([status, value]) => ({ labels: { status: String(status) }, value }));
    return [
      metric('edgebox_peer_requests_total', 'Peer (fill) responses on the serving port by status code', 'counter', byStatus(this.#peerRequests)),
      metric('edgebox_peer_served_bytes_total', 'File body bytes written to peers, by status code', 'counter', byStatus(this.#peerBytes)),
      metric('edgebox_peer_paced_bytes_total', 'Peer body bytes whose write the peer rate limit delayed', 'counter', [{ labels: {}, value: this.peerPacedBytes }]),
      metric('edgebox_peer_pacing_seconds_total', 'Time peer body writes waited for the peer rate limit, summed over responses', 'counter', [{ labels: {}, value: this.peerPacingSeconds }]),
      metric('edgebox_miss_requests_total', 'Viewer requests for files not held, by outcome (filled_through: streamed from its download)', 'counter',
        MISS_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: this.#misses[outcome] }))),
      metric('edgebox_http_requests_total', 'HTTP responses on the serving port by status code and the tier the body came from', 'counter', requests),
      metric('edgebox_served_bytes_total', 'File body bytes written to clients, by tier', 'counter', bytes),
      metric('edgebox_disk_read_errors_total', 'Disk reads that failed while serving', 'counter', diskErrors),
      metric('edgebox_http_in_flight_requests', 'Requests being answered right now', 'gauge', [{ labels: {}, value: this.inFlightCount }]),
      metric('edgebox_http_request_duration_seconds', 'Time from request to the last byte written, by tier', 'histogram', latency),
    ];
  }
}
