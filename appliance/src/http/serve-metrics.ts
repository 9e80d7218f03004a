// Per-worker serving metrics. Each worker thread owns a prom-client Registry; the main thread
// collects every worker's getMetricsAsJSON() and aggregates them (daemon/metrics.ts), so /metrics
// shows the box. Label children are bound once and cached: the hot path does no label hashing.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServeTier } from '../store/types.ts';

/** 'none' for responses that sent no file bytes from a tier (errors, 304, preflight). */
export type TierLabel = ServeTier | 'none';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly inFlight: Gauge<string>;
  #requests: Counter<string>;
  #bytes: Counter<string>;
  #diskErrors: Counter<string>;
  #latency: Histogram<string>;
  #requestChildren = new Map<string, Counter.Internal>();
  #bytesChildren = new Map<string, Counter.Internal>();
  #latencyChildren = new Map<string, Histogram.Internal<string>>();
  /** running totals for the main thread's load figures (no registry walk needed) */
  bytesTotal = 0;
  diskErrorsTotal = 0;
  /** responses in progress; read by the in-flight gauge at scrape time (no per-request calls) */
  inFlightCount = 0;

  constructor() {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'edgebox_http_requests_total',
      help: 'HTTP responses on the serving port by status code and the tier the body came from',
      labelNames: ['status', 'tier'],
      registers,
    });
    this.#bytes = new Counter({
      name: 'edgebox_served_bytes_total',
      help: 'File body bytes written to clients, by tier',
      labelNames: ['tier'],
      registers,
    });
    const self = this;
    this.inFlight = new Gauge({
      name: 'edgebox_http_in_flight_requests',
      help: 'Requests being answered right now',
      registers,
      collect() {
        this.set(self.inFlightCount);
      },
    });
    this.#diskErrors = new Counter({
      name: 'edgebox_disk_read_errors_total',
      help: 'Disk reads that failed while serving',
      labelNames: ['tier'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'edgebox_http_request_duration_seconds',
      help: 'Time from request to the last byte written, by tier',
      labelNames: ['tier'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  response(status: number, tier: TierLabel, seconds: number): void {
    const key = `${status}|${tier}`;
    let c = this.#requestChildren.get(key);
    if (c === undefined) {
      c = this.#requests.labels(String(status), tier);
      this.#requestChildren.set(key, c);
    }
    c.inc();
    let h = this.#latencyChildren.get(tier);
    if (h === undefined) {
      h = this.#latency.labels(tier);
      this.#latencyChildren.set(tier, h);
    }
    h.observe(seconds);
  }

  bytes(tier: TierLabel, n: number): void {
    if (n <= 0) return;
    let c = this.#bytesChildren.get(tier);
    if (c === undefined) {
      c = this.#bytes.labels(tier);
      this.#bytesChildren.set(tier, c);
    }
    c.inc(n);
    this.bytesTotal += n;
  }

  diskError(tier: TierLabel): void {
    this.#diskErrors.labels(tier).inc();
    this.diskErrorsTotal++;
  }
}
