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
  const fillPlans = new Counter({ name: 'edgebox_control_fill_plans_total', help: 'fill planner runs by trigger (start, schedule, operator)', labelNames: ['trigger'], registers: [registry] });
  const fillPlan = new Gauge({
    name: 'edgebox_control_fill_plan',
    help: 'figures of the last fill plan: duration_seconds, appliances, titles_placed, titles_unplaced, files_placed, copies, planned_bytes, add_bytes, churn_max_share',
    labelNames: ['figure'], registers: [registry],
  });
  const fillManifests = new Counter({ name: 'edgebox_control_fill_manifests_total', help: 'fill manifest requests by result (sent, not_modified, no_plan)', labelNames: ['result'], registers: [registry] });
  const popularityViews = new Counter({ name: 'edgebox_control_popularity_views_total', help: 'views (bytes streamed ÷ file size) counted from heartbeats', registers: [registry] });
  const steeringDegraded = new Counter({
    name: 'edgebox_control_steering_degraded_total',
    help: 'steering decisions that named a degraded appliance (ranked after healthy ones at its prefix length)', registers: [registry],
  });
  const throughputClasses = new Counter({
    name: 'edgebox_control_steering_throughput_changes_total',
    help: 'measured-throughput class changes of (client prefix, appliance) pairs: promoted, demoted, held (deferred by the minimum dwell)',
    labelNames: ['change'], registers: [registry],
  });
  for (const change of ['promoted', 'demoted', 'held']) throughputClasses.inc({ change }, 0);
  const pruned = new Counter({
    name: 'edgebox_control_pruned_total', help: 'rows and entries the housekeeping job removed, by what', labelNames: ['what'], registers: [registry],
  });
  const credentials = new Counter({
    name: 'edgebox_control_appliance_credentials_total', help: 'appliance credential events: rotated, revoked, refused_revoked', labelNames: ['event'], registers: [registry],
  });
  return { registry, steering, steeringDegraded, throughputClasses, pruned, credentials, misses, licences, reports, playback, fillPlans, fillPlan, fillManifests, popularityViews };
}

export type Metrics = ReturnType<typeof createMetrics>;
