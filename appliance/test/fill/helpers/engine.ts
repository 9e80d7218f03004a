// A fill engine on a real temp store, for tests that drive it with manifests directly.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { DriveKind } from '../../../src/fill/disk-downloads.ts';
import { FillEngine } from '../../../src/fill/engine.ts';
import { FillSettings } from '../../../src/fill/settings.ts';
import { openStore, type Store } from '../../../src/store/store.ts';
import type { StoreOptions } from '../../../src/store/options.ts';
import type { FillClock } from '../../../src/fill/clock.ts';
import type { ServingLoad } from '../../../src/fill/viewer-yield.ts';
import type { SourceServer } from './source-server.ts';

export interface Rig {
  dir: string;
  store: Store;
  engine: FillEngine;
}

/** Registers cleanup; call once per test file and use `open()` in each test. */
export function useRig(): {
  open(o?: { settings?: Partial<FillSettings>; store?: Partial<StoreOptions>; ssdMaxBytes?: number; clock?: FillClock; servingLoad?: () => ServingLoad | null; ssdDrive?: DriveKind }): Promise<Rig>;
  sources: SourceServer[];
} {
  const rigs: Rig[] = [];
  const sources: SourceServer[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) {
      await r.engine.stop();
      await r.store.close();
      await rm(r.dir, { recursive: true, force: true });
    }
    for (const s of sources.splice(0)) await s.close();
  });
  return {
    sources,
    async open(o = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'edgebox-fill-'));
      const store = await openStore({
        stateDir: join(dir, 'state'),
        roots: [{ path: join(dir, 'ssd'), type: 'ssd', maxBytes: o.ssdMaxBytes }],
        ramBytes: 0,
        reserveBytes: 0,
        rebalanceIntervalMs: 3_600_000,
        ...o.store,
      });
      const settings = FillSettings.parse({ tickMs: 25, sourceRetryMs: 50, retryMs: 60_000, sourceTimeoutMs: 5_000, ...o.settings });
      const driveKinds = o.ssdDrive !== undefined ? new Map([[join(dir, 'ssd'), o.ssdDrive]]) : undefined;
      const engine = new FillEngine({ store, settings, clock: o.clock, servingLoad: o.servingLoad, driveKinds });
      const rig = { dir, store, engine };
      rigs.push(rig);
      return rig;
    },
  };
}

/** Let the scheduler run `n` more passes. */
export async function passes(engine: FillEngine, n = 3): Promise<void> {
  const target = engine.passes + n;
  await until(`${n} scheduler passes`, () => engine.passes >= target);
}

/** Wait for a condition the test cannot await directly (no timing is asserted). */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
