// The control service's state, wired once: store, in-memory fleet, catalogue, key vault,
// metrics, clock. HTTP routes and the ingest loop work on this object.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { parsePrefix } from '../../protocol/index.ts';
import type { Prefix } from '../../protocol/index.ts';
import { Catalog } from './catalog.ts';
import { FillService } from './fill/fill-service.ts';
import { secretHash } from './credentials.ts';
import { KeyVault } from './licence/key-vault.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import type { ControlSettings } from './settings.ts';
import type { ApplianceState } from './steering/appliance-state.ts';
import { Fleet } from './steering/fleet.ts';
import type { Changed } from './steering/fleet.ts';
import type { ApplianceSnapshot, Repository } from './store/repository.ts';
import { SqliteRepository } from './store/sqlite-repository.ts';

export interface ControlDeps {
  settings: ControlSettings;
  log: Logger;
  /** milliseconds since the epoch; tests drive it */
  clock?: () => number;
  repo?: Repository;
}

const FLUSH_DELAY_MS = 250;

export class Control {
  readonly settings: ControlSettings;
  readonly log: Logger;
  readonly now: () => number;
  readonly repo: Repository;
  readonly fleet: Fleet;
  readonly catalog: Catalog;
  readonly metrics: Metrics;
  readonly fill: FillService;
  readonly trustedProxies: Prefix[];
  readonly urlTokenSecret: string;
  /** base of the URLs control writes into manifests; set from the listen address if not configured */
  publicUrl: string;
  #dirty = new Map<ApplianceState, Changed>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(d: ControlDeps) {
    this.settings = d.settings;
    this.log = d.log;
    this.now = d.clock ?? Date.now;
    this.publicUrl = d.settings.publicUrl.replace(/\/+$/, '');
    this.repo = d.repo ?? new SqliteRepository(d.settings.dbPath);
    let kek = d.settings.kek;
    if (kek === '') {
      kek = randomBytes(32).toString('hex');
      this.log.warn('no kek configured: title keys are sealed under a random key for this process only (set EDGEBOX_CONTROL_KEK)');
    }
    this.urlTokenSecret = d.settings.urlTokenSecret || randomBytes(32).toString('base64url');
    if (d.settings.urlTokenSecret === '') this.log.warn('no urlTokenSecret configured: appliances cannot verify this process\'s URL tokens');
    this.trustedProxies = d.settings.trustedProxies.map((c) => parsePrefix(c, true)!);
    this.fleet = new Fleet(
      {
        staleAfterMs: d.settings.reportIntervalMs * d.settings.staleIntervals,
        overloadEnter: d.settings.overloadEnter,
        overloadLeave: d.settings.overloadLeave,
      },
      (a, changed) => this.#markDirty(a, changed),
    );
    const sites = new Map(this.repo.listSites().map((s) => [s.siteId, s]));
    for (const a of this.repo.listAppliances()) {
      const site = sites.get(a.siteId);
      if (site) this.fleet.add(a.applianceId, site, a.name, a.publicUrl, a.operatorDrain, a);
    }
    this.catalog = new Catalog(this.repo, new KeyVault(kek));
    this.metrics = createMetrics(() => this.#countStates());
    this.fill = new FillService({ settings: d.settings, repo: this.repo, fleet: this.fleet, catalog: this.catalog, metrics: this.metrics, log: this.log, now: this.now });
  }

  /**
   * Enrollment tokens from config are put into the store the first time they are presented (the
   * site may be created after start); INSERT OR IGNORE keeps a used token used.
   */
  adoptConfiguredEnrollmentToken(token: string): void {
    const t = this.settings.enrollmentTokens.find((e) => e.token === token);
    if (!t || !this.repo.getSite(t.siteId)) return;
    this.repo.addEnrollmentToken(secretHash(token), t.siteId, Math.floor(this.now() / 1000) + this.settings.enrollmentTokenTtlSec);
  }

  #countStates(): Record<string, number> {
    const counts: Record<string, number> = { healthy: 0, overloaded: 0, stale: 0, failing: 0, draining: 0 };
    const now = this.now();
    for (const a of this.fleet.all()) counts[this.fleet.status(a, now)]++;
    return counts;
  }

  // Reports change memory at once and reach the store in batches, off the request path.
  #markDirty(a: ApplianceState, changed: Changed): void {
    if (changed.inventory) this.fill?.manifests.inventoryChanged(a);
    const before = this.#dirty.get(a);
    this.#dirty.set(a, before ? { inventory: before.inventory || changed.inventory, routes: before.routes || changed.routes } : changed);
    this.#flushTimer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#dirty.size === 0) return;
    const batch: ApplianceSnapshot[] = [...this.#dirty].map(([a, changed]) => ({
      applianceId: a.id,
      state: this.fleet.stateSnapshot(a),
      ...(changed.inventory ? { inventory: this.fleet.inventorySnapshot(a) } : {}),
      ...(changed.routes ? { routes: this.fleet.routesSnapshot(a) } : {}),
    }));
    const dirtyBefore = [...this.#dirty];
    this.#dirty.clear();
    try {
      this.repo.saveSnapshots(batch);
    } catch (err) {
      // Keep what was not written: the next flush tries again with the newer state.
      for (const [a, changed] of dirtyBefore) this.#markDirty(a, changed);
      this.log.error({ err }, 'persisting appliance state failed; will retry');
    }
  }

  close(): void {
    this.fill.close();
    this.flush();
    this.repo.close();
  }
}
