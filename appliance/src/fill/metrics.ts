// Fill series on the daemon's main-thread registry, read from the engine at scrape time.

import { Counter, Gauge, type Registry } from 'prom-client';
import { LEVELS } from './escalation.ts';
import type { FillEngine } from './engine.ts';
import type { ByLevel } from './fill-stats.ts';

const BLOCKED = ['no_space', 'no_sources', 'control_unreachable'] as const;

export function registerFillMetrics(registry: Registry, engine: FillEngine): void {
  const registers = [registry];
  const byLevel = (name: string, help: string, read: () => ByLevel) =>
    new Counter({
      name, help, labelNames: ['level'], registers,
      collect() {
        const v = read();
        this.reset();
        for (const level of LEVELS) this.inc({ level }, v[level]);
      },
    });
  byLevel('edgebox_fill_bytes_total', 'Fill bytes received, by source level (peer, tier, origin)', () => engine.stats.bytes);
  byLevel('edgebox_fill_failed_bytes_total', 'Fill bytes received and thrown away because the file failed verification, by source level', () => engine.stats.failedBytes);
  byLevel('edgebox_fill_source_failures_total', 'Tries of a fill source that failed (bad bytes, HTTP error, timeout, unreachable), by level', () => engine.stats.failures);
  byLevel('edgebox_fill_not_yet_total', 'Tries of a peer or tier source that did not hold the file yet (404 from a planned holder), by level', () => engine.stats.notYet);
  byLevel('edgebox_fill_files_total', 'Files published by fill, by the level of the source that completed them', () => engine.stats.files);

  // one status per scrape for the gauges below
  let snap = engine.status();
  let snapAt = -1;
  const status = () => {
    const now = Date.now();
    if (now !== snapAt) {
      snap = engine.status();
      snapAt = now;
    }
    return snap;
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  gauge('edgebox_fill_wanted_files', 'Files the fill manifest wants on this appliance', () => status().wanted.files);
  gauge('edgebox_fill_wanted_bytes', 'Bytes of the files the fill manifest wants on this appliance', () => status().wanted.bytes);
  gauge('edgebox_fill_held_bytes', 'Bytes of wanted files already held', () => status().held.bytes);
  gauge('edgebox_fill_missing_files', 'Wanted files not held yet', () => status().missing.files);
  gauge('edgebox_fill_missing_bytes', 'Bytes of wanted files not held yet', () => status().missing.bytes);
  gauge('edgebox_fill_deferred_files', 'Missing files waiting for a peer or IX appliance that does not have them yet', () => status().deferredFiles);
  gauge('edgebox_fill_downloads_in_flight', 'Fill downloads running (scheduled and misses)', () => status().active.length);
  gauge('edgebox_fill_window_open', '1 while filling may run (inside the fill window, or forced by the operator)', () => (status().window?.open ? 1 : 0));
  new Gauge({
    name: 'edgebox_fill_blocked', help: '1 for the reason fill is stopped short, if any', labelNames: ['reason'], registers,
    collect() {
      const b = engine.blocked;
      for (const reason of BLOCKED) this.set({ reason }, b === reason ? 1 : 0);
    },
  });
}
