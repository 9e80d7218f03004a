// The control service's state, wired once: store, in-memory fleet, catalogue, key vault,
// metrics, clock. HTTP routes and the ingest loop work on this object.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { parsePrefix } from '../../protocol/index.ts';
import type { Prefix } from '../../protocol/index.ts';
import { Catalog } from './catalog.ts';
import { ClusterSync } from './cluster-sync.ts';
import { FillService } from './fill/fill-service.ts';
import { secretHash } from './credentials.ts';
import { KeyVault } from './licence/key-vault.ts';
import { Housekeeping } from './playback/housekeeping.ts';
import { HeartbeatSampler } from './playback/throughput-samples.ts';
import { UrlTokenKeys } from './playback/url-token-keys.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import type { ControlSettings } from './settings.ts';
import type { ApplianceState } from './steering/appliance-state.ts';
import { Fleet } from './steering/fleet.ts';
import type { Changed } from './steering/fleet.ts';
import { decodeEntry, RouteLogWriter } from './steering/route-log.ts';
import { ThroughputBook } from './steering/throughput.ts';
import { TlsCertificates } from './tls/tls-certificates.ts';
import type { ApplianceSnapshot, Repository } from './store/repository.ts';
import { openRepository } from './store/open-repository.ts';

export interface ControlDeps {
  settings: ControlSettings;
  log: Logger;
  /** milliseconds since the epoch; tests drive it */
  clock?: () => number;
  repo?: Repository;
}

const FLUSH_DELAY_MS = 250;
/** appliances written per store call within one flush */
const FLUSH_PART = 256;

export class Control {
  readonly settings: ControlSettings;
  readonly log: Logger;
  readonly now: () => number;
  readonly repo: Repository;
  readonly fleet: Fleet;
  readonly metrics: Metrics;
  readonly trustedProxies: Prefix[];
  /** measured throughput per (client prefix, appliance), from heartbeats, for steering */
  readonly throughput: ThroughputBook;
  readonly heartbeatSamples = new HeartbeatSampler();
  readonly housekeeping: Housekeeping;
  /** base of the URLs control writes into manifests; set from the listen address if not configured */
  publicUrl: string;
  #dirty = new Map<ApplianceState, { inventory: boolean }>();
  /** route changes for the store's route log, written with the next flush */
  readonly routeLog = new RouteLogWriter();
  #flushTimer: NodeJS.Timeout | undefined;
  /** the flush running or last run (see flush) */
  #flushing: Promise<void> = Promise.resolve();
  #kek: string;
  // set by open(), before anyone else sees the object
  #catalog!: Catalog;
  #fill!: FillService;
  #tlsCertificates!: TlsCertificates;
  #cluster!: ClusterSync;
  #urlTokenKeys!: UrlTokenKeys;

  private constructor(d: ControlDeps, repo: Repository) {
    this.settings = d.settings;
    this.log = d.log;
    this.now = d.clock ?? Date.now;
    this.publicUrl = d.settings.publicUrl.replace(/\/+$/, '');
    this.repo = repo;
    let kek = d.settings.kek;
    if (kek === '') {
      kek = randomBytes(32).toString('hex');
      this.log.warn('no kek configured: title keys are sealed under a random key for this process only (set EDGEBOX_CONTROL_KEK)');
    }
    this.trustedProxies = d.settings.trustedProxies.map((c) => parsePrefix(c, true)!);
    this.fleet = new Fleet(
      {
        staleAfterMs: d.settings.reportIntervalMs * d.settings.staleIntervals,
        overloadEnter: d.settings.overloadEnter,
        overloadLeave: d.settings.overloadLeave,
      },
      (a, changed) => this.#markDirty(a, changed),
    );
    this.metrics = createMetrics(() => this.#countStates());
    this.throughput = new ThroughputBook({
      halfLifeMs: d.settings.throughputHalfLifeMs, dwellMs: d.settings.throughputDwellMs,
      goodKbps: d.settings.throughputGoodKbps, minEvidenceMs: d.settings.throughputMinEvidenceMs,
    });
    this.housekeeping = new Housekeeping(this);
    this.#kek = kek;
  }

  /** Control with its stored state loaded: appliances into the fleet, titles, fill state. */
  static async open(d: ControlDeps): Promise<Control> {
    const c = new Control(d, d.repo ?? await openRepository(d.settings));
    // read before loading: whatever other instances write from here on is read again, not missed
    const since = await c.repo.changeVersion();
    const sites = new Map((await c.repo.listSites()).map((s) => [s.siteId, s]));
    for (const a of await c.repo.listAppliances()) {
      const site = sites.get(a.siteId);
      if (site) c.fleet.add(a.applianceId, site, a.name, a.publicUrl, a.operatorDrain, a);
    }
    // routes: each appliance's last full set and the deltas since (entries the feed reads again
    // are applied again: a suffix of the log replayed twice ends where it did)
    for (const e of await c.repo.routeLog()) {
      const a = c.fleet.get(e.applianceId);
      if (a) c.fleet.replayRoutes(a, decodeEntry(e));
    }
    c.#urlTokenKeys = await UrlTokenKeys.load(c.repo, d.settings, c.now(), c.log);
    c.#catalog = await Catalog.load(c.repo, new KeyVault(c.#kek));
    c.#tlsCertificates = new TlsCertificates(c.repo, new KeyVault(c.#kek), c.now);
    c.#fill = await FillService.load({ settings: d.settings, repo: c.repo, fleet: c.fleet, catalog: c.#catalog, metrics: c.metrics, log: c.log, now: c.now });
    c.#cluster = new ClusterSync(c, since, [...sites.values()]);
    await c.#cluster.start(d.settings.reportIntervalMs);
    return c;
  }

  get catalog(): Catalog { return this.#catalog; }
  /** what other control instances on a shared database wrote reaches memory here */
  get cluster(): ClusterSync { return this.#cluster; }
  get fill(): FillService { return this.#fill; }
  /** operators' certificates for the appliances' serving hostnames, handed out in report replies */
  get tlsCertificates(): TlsCertificates { return this.#tlsCertificates; }
  /** URL-token signing keys (rotation with overlap) */
  get urlTokenKeys(): UrlTokenKeys { return this.#urlTokenKeys; }

  /**
   * Enrollment tokens from config are put into the store the first time they are presented (the
   * site may be created after start); INSERT OR IGNORE keeps a used token used.
   */
  async adoptConfiguredEnrollmentToken(token: string): Promise<void> {
    const t = this.settings.enrollmentTokens.find((e) => e.token === token);
    if (!t || !(await this.repo.getSite(t.siteId))) return;
    await this.repo.addEnrollmentToken(secretHash(token), t.siteId, Math.floor(this.now() / 1000) + this.settings.enrollmentTokenTtlSec);
  }

  #countStates(): Record<string, number> {
    const counts: Record<string, number> = { healthy: 0, overloaded: 0, stale: 0, failing: 0, draining: 0 };
    const now = this.now();
    for (const a of this.fleet.all()) counts[this.fleet.status(a, now)]++;
    return counts;
  }

  // Reports change memory at once and reach the store in batches, off the request path.
  #markDirty(a: ApplianceState, changed: Changed): void {
    if (changed.inventory) this.#fill?.manifests.inventoryChanged(a);
    if (changed.routes === 'full') this.routeLog.full(a);
    else if (changed.routes) this.routeLog.delta(a, changed.routes);
    this.#dirty.set(a, { inventory: (this.#dirty.get(a)?.inventory ?? false) || changed.inventory });
    this.#flushTimer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Writes what changed since the last flush. Flushes run one after another, never overlapping,
   *  so an appliance's route-log entries reach the store in the order they were taken. */
  flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const run = this.#flushing.then(() => this.#flushNow());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushNow(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    // In parts: the snapshots and route-log bodies of one part are built, written and dropped
    // before the next is built. 10,000 first reports at once (a restart, the steering bench) made
    // ~300 MB of bodies in one go, which left control's RSS that much higher for good (freed
    // buffers stay in malloc's heap).
    for (let i = 0; i < dirty.length; i += FLUSH_PART) {
      const part = dirty.slice(i, i + FLUSH_PART);
      const batch: ApplianceSnapshot[] = [];
      for (const [a, changed] of part) {
        const snapshot: ApplianceSnapshot = {
          applianceId: a.id,
          state: this.fleet.stateSnapshot(a),
          ...(changed.inventory ? { inventory: this.fleet.inventorySnapshot(a) } : {}),
        };
        const routeLog = await this.routeLog.take(a);
        batch.push(routeLog ? { ...snapshot, routeLog } : snapshot);
      }
      try {
        await this.repo.saveSnapshots(batch);
      } catch (err) {
        // Keep what was not written: the next flush tries again with the newer state, and the
        // route-log entries it did not write go first.
        batch.forEach((s, j) => { if (s.routeLog) this.routeLog.giveBack(part[j][0], s.routeLog); });
        for (const [a, changed] of part) this.#markDirty(a, changed);
        this.log.error({ err }, 'persisting appliance state failed; will retry');
      }
    }
  }

  async close(): Promise<void> {
    await this.#cluster.stop();
    this.housekeeping.stop();
    await this.fill.close();
    await this.flush();
    await this.repo.close();
  }
}
