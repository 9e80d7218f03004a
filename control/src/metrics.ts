// Control's Prometheus metrics, on a registry per service instance (tests run several).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(appliancesByState: () => Record<string, number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgebox_control_' });
  const steering = new Counter({ name: 'edgebox_control_steering_decisions_total', help: 'steering decisions', registers: [registry] });
  const misses = new Counter({
    name: 'edgebox_control_steering_misses_total',
    help: 'decisions that could not use a local appliance, by cause (content, health, no-route)',
    labelNames: ['cause'], registers: [registry],
  });
  const licences = new Counter({ name: 'edgebox_control_licences_total', help: 'licence requests by system and result', labelNames: ['system', 'result'], registers: [registry] });
  const reports = new Counter({ name: 'edgebox_control_reports_total', help: 'appliance reports by result', labelNames: ['result'], registers: [registry] });
  const playback = new Counter({ name: 'edgebox_control_playback_starts_total', help: 'play requests by result', labelNames: ['result'], registers: [registry] });
  new Gauge({
    name: 'edgebox_control_appliances', help: 'appliances by state', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(appliancesByState())) this.set({ state }, n);
    },
  });
  for (const cause of ['content', 'health', 'no-route']) misses.inc({ cause }, 0);
  return { registry, steering, misses, licences, reports, playback };
}

export type Metrics = ReturnType<typeof createMetrics>;
