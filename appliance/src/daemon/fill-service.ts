// Fill as a daemon service (appended to DAEMON_SERVICES, started after the control link): the
// engine on the daemon's store, its manifest kept current from control, its series on the
// daemon's registry, and `daemon.fill` set for the serving side's misses. With no controlUrl, or
// fill disabled, it does nothing and daemon.fill stays null.

import { resolve } from 'node:path';
import type { Daemon } from './daemon.ts';
import type { DaemonService } from './services.ts';
import { systemFillClock } from '../fill/clock.ts';
import { FillEngine } from '../fill/engine.ts';
import { ManifestClient } from '../fill/manifest-client.ts';
import { ManifestSync } from '../fill/manifest-sync.ts';
import { registerFillMetrics } from '../fill/metrics.ts';

export const fillService: DaemonService = {
  name: 'fill',
  async start(d: Daemon) {
    const s = d.settings;
    if (!s.controlUrl || !s.fill.enabled) {
      d.log.info({ controlUrl: s.controlUrl, enabled: s.fill.enabled }, 'fill: off (no control plane, or disabled)');
      return { stop: async () => {} };
    }
    const log = d.log.child({ part: 'fill' });
    const clock = systemFillClock;
    // the box's CPU and viewers, so fill yields to them (fill/viewer-yield.ts); read only while downloading
    // what drive is under each root (downloadsPerSsd "auto": more downloads at once on NVMe)
    const driveKinds = new Map(d.probe.disks.map((disk) => [resolve(disk.path), disk.kind] as const));
    const engine = new FillEngine({ store: d.store, settings: s.fill, clock, log, servingLoad: () => d.snapshot().load, driveKinds });
    log.info({ downloadsPerRoot: Object.fromEntries(d.store.roots.map((r) => [r.path, engine.limitOf(r)])) }, 'fill: downloads at once per store root');
    const sync = new ManifestSync({
      client: new ManifestClient({ controlUrl: s.controlUrl, stateDir: s.stateDir, timeoutMs: s.fill.requestTimeoutMs }),
      engine, stateDir: s.stateDir, clock, log, refreshMs: s.fill.manifestRefreshMs,
    });
    registerFillMetrics(d.metricsRegistry, engine);
    await sync.start();
    engine.start();
    d.fill = engine;
    return {
      async stop() {
        d.fill = null;
        await sync.stop();
        await engine.stop();
      },
    };
  },
};
