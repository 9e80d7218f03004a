// A serving worker's own V8 heap and event-loop delay, beside its serving counters in /metrics.
// prom-client's default metrics (daemon/metrics.ts) describe the main thread only, and RSS is the
// whole process's: these say whether a worker's heap grows or its loop stalls (the soak bench
// reads them; bench/soak/README.md).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { MetricsJson } from './serve-metrics.ts';

export function workerRuntimeMetrics(worker: number): () => MetricsJson {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const labels = { worker: String(worker) };
  const gauge = (name: string, help: string, value: number) =>
    ({ name, help, type: 'gauge', values: [{ labels, value }], aggregator: 'sum' }) as unknown as MetricObjectWithValues<MetricValue<string>>;
  return () => {
    const m = process.memoryUsage(); // in a worker thread, heapUsed/heapTotal are this isolate's
    // the delay since the previous scrape, as prom-client does for the main thread
    const p99 = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
    delay.reset();
    return [
      gauge('edgebox_worker_heap_used_bytes', 'V8 heap used by a serving worker thread', m.heapUsed),
      gauge('edgebox_worker_heap_total_bytes', 'V8 heap reserved by a serving worker thread', m.heapTotal),
      gauge('edgebox_worker_eventloop_delay_p99_seconds', 'p99 event-loop delay of a serving worker since the previous scrape', p99),
    ];
  };
}
