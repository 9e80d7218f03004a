// The box's /metrics: every worker's registry (requests, bytes, latency, in-flight, disk errors)
// aggregated with the main thread's own (tiers, workers, health, hit ratio, process metrics).
// Worker series are summed across workers by prom-client's AggregatorRegistry.

import type { StoreCounters } from '../store/store-state.ts';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** prom-client defaults that are gauges named *_total, which promtool's lint rejects */
const LINT_FAILING_DEFAULTS = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

export interface TierUsage {
  tier: 'ram' | 'ssd' | 'hdd';
  usedBytes: number;
  capacityBytes: number;
  files: number;
}

/** The store's monotonic counts (StoreUsage.counters), as the store defines them. */
export type StoreCounts = StoreCounters;

const STORE_COUNTERS: [keyof Omit<StoreCounts, 'putErrors'>, string, string][] = [
  ['puts', 'edgebox_store_puts_total', 'Files published into the store'],
  ['ramAdmitted', 'edgebox_store_ram_admitted_total', 'Files admitted to the RAM tier'],
  ['ramEvicted', 'edgebox_store_ram_evicted_total', 'Files evicted from the RAM tier'],
  ['promoted', 'edgebox_store_promoted_total', 'Files moved HDD to SSD by the rebalance'],
  ['demoted', 'edgebox_store_demoted_total', 'Files moved SSD to HDD by the rebalance'],
  ['bytesMoved', 'edgebox_store_moved_bytes_total', 'Bytes copied between disk tiers by the rebalance'],
  ['diskEvicted', 'edgebox_store_disk_evicted_total', 'Files evicted from disk to make room'],
  ['quarantined', 'edgebox_store_quarantined_total', 'Files quarantined (damaged or failed verification)'],
];

export interface MainFacts {
  store: StoreCounts;
  tiers: TierUsage[];
  workersAlive: number;
  draining: boolean;
  health: 'ok' | 'degraded' | 'failing';
  /** every store root, and whether its drive was taken out of service */
  drives: Array<{ root: string; tier: string; failed: boolean }>;
}

/** RAM share of file responses (by count) in a set of worker metrics; NaN with no traffic. */
export function ramHitRatio(workers: MetricsJson[]): number {
  let ram = 0;
  let all = 0;
  for (const w of workers) {
    const m = w.find((x) => x.name === 'edgebox_http_requests_total');
    for (const v of m?.values ?? []) {
      const tier = v.labels.tier;
      if (tier === 'none') continue;
      all += v.value;
      if (tier === 'ram') ram += v.value;
    }
  }
  return all === 0 ? Number.NaN : ram / all;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly workerRestarts: Counter<string>;
  #tierUsed: Gauge<string>;
  #tierCapacity: Gauge<string>;
  #tierFiles: Gauge<string>;
  #workers: Gauge<string>;
  #draining: Gauge<string>;
  #health: Gauge<string>;
  #hitRatio: Gauge<string>;
  #ramBytes: Gauge<string>;
  #store = new Map<string, Counter<string>>();
  #putErrors: Counter<string>;
  #driveFailed: Gauge<string>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.workerRestarts = new Counter({
      name: 'edgebox_worker_restarts_total',
      help: 'Serving workers restarted after a crash',
      registers,
    });
    this.#tierUsed = new Gauge({
      name: 'edgebox_tier_used_bytes',
      help: 'Bytes held per tier (ram is the RAM tier shared by all workers)',
      labelNames: ['tier'],
      registers,
    });
    this.#tierCapacity = new Gauge({
      name: 'edgebox_tier_capacity_bytes',
      help: 'Capacity per tier',
      labelNames: ['tier'],
      registers,
    });
    this.#tierFiles = new Gauge({
      name: 'edgebox_tier_files',
      help: 'Files held per tier',
      labelNames: ['tier'],
      registers,
    });
    this.#ramBytes = new Gauge({
      name: 'edgebox_ram_tier_bytes',
      help: 'Bytes held in the RAM tier (one copy for the box, shared by every worker)',
      registers,
    });
    for (const [, name, help] of STORE_COUNTERS) this.#store.set(name, new Counter({ name, help, registers }));
    this.#putErrors = new Counter({
      name: 'edgebox_store_put_errors_total',
      help: 'Failed publishes by store error code',
      labelNames: ['code'],
      registers,
    });
    this.#driveFailed = new Gauge({
      name: 'edgebox_store_drive_failed',
      help: '1 for a store drive taken out of service after repeated I/O errors, 0 for a working one',
      labelNames: ['root', 'tier'],
      registers,
    });
    this.#workers = new Gauge({ name: 'edgebox_workers', help: 'Serving workers running', registers });
    this.#draining = new Gauge({ name: 'edgebox_draining', help: '1 while draining', registers });
    this.#health = new Gauge({
      name: 'edgebox_health',
      help: '1 for the current health status',
      labelNames: ['status'],
      registers,
    });
    this.#hitRatio = new Gauge({
      name: 'edgebox_ram_hit_ratio',
      help: 'Share of file responses served from the RAM tier since the workers started',
      registers,
    });
  }

  /** The exposition text for a scrape, given every live worker's metrics as JSON. */
  async render(workers: MetricsJson[], facts: MainFacts): Promise<{ text: string; contentType: string }> {
    for (const t of facts.tiers) {
      this.#tierUsed.set({ tier: t.tier }, t.usedBytes);
      this.#tierCapacity.set({ tier: t.tier }, t.capacityBytes);
      this.#tierFiles.set({ tier: t.tier }, t.files);
    }
    // the store counts; mirror its totals (reset + inc sets a counter to a value)
    for (const [key, name] of STORE_COUNTERS) {
      const c = this.#store.get(name)!;
      c.reset();
      c.inc(facts.store[key]);
    }
    this.#putErrors.reset();
    for (const [code, n] of Object.entries(facts.store.putErrors)) this.#putErrors.inc({ code }, n);
    for (const d of facts.drives) this.#driveFailed.set({ root: d.root, tier: d.tier }, d.failed ? 1 : 0);
    this.#ramBytes.set(facts.tiers.find((t) => t.tier === 'ram')?.usedBytes ?? 0);
    this.#workers.set(facts.workersAlive);
    this.#draining.set(facts.draining ? 1 : 0);
    for (const s of ['ok', 'degraded', 'failing']) this.#health.set({ status: s }, s === facts.health ? 1 : 0);
    const ratio = ramHitRatio(workers);
    this.#hitRatio.set(Number.isNaN(ratio) ? 0 : ratio);
    const own = (await this.registry.getMetricsAsJSON()).filter((m) => !LINT_FAILING_DEFAULTS.has(m.name));
    const all = [...workers, own];
    const merged = AggregatorRegistry.aggregate(all);
    return { text: await merged.metrics(), contentType: merged.contentType };
  }
}
