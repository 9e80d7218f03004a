// Reporter series for the daemon's prom-client registry, read at scrape time.

import { Gauge, type Registry } from 'prom-client';
import type { Reporter } from './reporter.ts';

export function registerReporterMetrics(registry: Registry, reporter: Reporter): void {
  new Gauge({
    name: 'edgebox_control_reports', help: 'reports to control since start, by outcome', labelNames: ['outcome'], registers: [registry],
    collect() {
      const s = reporter.stats;
      this.set({ outcome: 'sent' }, s.sent);
      this.set({ outcome: 'ignored' }, s.ignored);
      this.set({ outcome: 'failed' }, s.failures);
    },
  });
  new Gauge({
    name: 'edgebox_control_reachable', help: '1 while the last report cycle reached control', registers: [registry],
    collect() {
      this.set(reporter.contact.reachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgebox_control_last_contact_timestamp_seconds', help: 'when control last answered a report (the reporter start until it first does)', registers: [registry],
    collect() {
      this.set(reporter.contact.lastContactAt / 1000);
    },
  });
  new Gauge({
    name: 'edgebox_control_enrolled', help: '1 once the appliance holds a control credential', registers: [registry],
    collect() {
      this.set(reporter.applianceId ? 1 : 0);
    },
  });
}
