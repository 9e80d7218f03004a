// Fill, wired into control: popularity from heartbeats, the planner on a node-cron schedule (and
// once at start, and on an operator's call), the current plan, per-appliance manifests, bad
// sources from fill reports, windows and rates, and the peer-token key.

import { schedule } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { FillReport } from '../../../protocol/index.ts';
import type { Catalog } from '../catalog.ts';
import type { Metrics } from '../metrics.ts';
import type { ControlSettings } from '../settings.ts';
import type { ApplianceState } from '../steering/appliance-state.ts';
import type { Fleet } from '../steering/fleet.ts';
import type { Repository, SessionRow } from '../store/repository.ts';
import { BadSources } from './bad-sources.ts';
import { FillManifests } from './manifests.ts';
import type { BuiltManifest, CurrentPlan } from './manifests.ts';
import { PeerKeys } from './peer-keys.ts';
import { planCatalog, planSites } from './plan-input.ts';
import { planFill } from './planner.ts';
import type { PlanStats } from './planner.ts';
import { PopularityBook } from './popularity-book.ts';
import { heartbeatViews, playedMs } from './popularity.ts';
import { FillWindows } from './windows.ts';

const DAY_MS = 86_400_000;

export interface FillDeps {
  settings: ControlSettings;
  repo: Repository;
  fleet: Fleet;
  catalog: Catalog;
  metrics: Metrics;
  log: Logger;
  now: () => number;
}

export interface ChurnFigure {
  applianceId: string; siteId: string; files: number; plannedBytes: number; heldBytes: number; addBytes: number;
  churnBudgetBytes: number; capacityBytes: number;
}

export interface PlanRun {
  id: number;
  at: number;
  trigger: 'start' | 'schedule' | 'operator';
  durationMs: number;
  titles: number;
  files: number;
  stats: PlanStats;
  churn: ChurnFigure[];
}

export class FillService {
  readonly book: PopularityBook;
  readonly keys: PeerKeys;
  readonly windows: FillWindows;
  readonly bad: BadSources;
  readonly manifests: FillManifests;
  #d: FillDeps;
  #current: CurrentPlan | undefined;
  #lastRun: PlanRun | undefined;
  #task: ScheduledTask | undefined;
  #members = new Map<string, ApplianceState[]>();
  #membersOf = -1;

  private constructor(d: FillDeps, keys: PeerKeys, windows: FillWindows) {
    this.#d = d;
    const s = d.settings;
    this.book = new PopularityBook(d.repo, s.popularityHalfLifeDays * DAY_MS, (err) => d.log.error({ err }, 'persisting popularity failed; will retry'));
    this.keys = keys;
    this.windows = windows;
    this.bad = new BadSources(s.badSourceTtlMs);
    this.manifests = new FillManifests({
      fleet: d.fleet, windows: this.windows, keys: this.keys, bad: this.bad, settings: s,
      siteMembers: (siteId) => this.siteMembers(siteId),
    });
  }

  /** Fill with its stored state (peer keys, windows and rates) loaded. */
  static async load(d: FillDeps): Promise<FillService> {
    const s = d.settings;
    const keys = await PeerKeys.load(d.repo, s.peerSigningKey, d.now());
    const windows = await FillWindows.load(d.repo, { rateLimitBps: s.fillRateBps, peerServeRateBps: s.peerServeRateBps });
    return new FillService(d, keys, windows);
  }

  get current(): CurrentPlan | undefined { return this.#current; }
  get lastRun(): PlanRun | undefined { return this.#lastRun; }

  /** Plan once now, then on the schedule. A failed run is logged; the previous plan stays. */
  async start(): Promise<void> {
    const run = async (trigger: PlanRun['trigger']) => {
      try {
        await this.runPlan(trigger);
      } catch (err) {
        this.#d.log.error({ err, trigger }, 'fill plan failed; the previous plan stays');
      }
    };
    await run('start');
    if (this.#d.settings.fillPlanSchedule !== '') {
      this.#task = schedule(this.#d.settings.fillPlanSchedule, () => run('schedule'), { name: 'fill-plan', noOverlap: true });
    }
  }

  async close(): Promise<void> {
    void this.#task?.destroy();
    this.#task = undefined;
    await this.book.flush();
  }

  async runPlan(trigger: PlanRun['trigger']): Promise<PlanRun> {
    const { settings: s, fleet, catalog, metrics, now: clock } = this.#d;
    const started = performance.now();
    const now = clock();
    const promotions = await this.#d.repo.listPromotions();
    const cat = planCatalog(catalog.all());
    const sites = planSites(fleet.all(), now, s.fillDropAfterMs);
    const regions = [...new Set(sites.map((x) => x.region))];
    const popularity = await this.book.regional(cat, cat.titleRegions, regions, promotions, now);
    const plan = planFill({ catalog: cat, popularity, sites }, { headroom: s.fillHeadroom, churnFraction: s.fillChurnFraction });
    const id = (this.#current?.id ?? 0) + 1;
    this.#current = { id, at: now, plan, catalog: cat };
    const churn: ChurnFigure[] = [...plan.appliances.values()].map((a) => ({
      applianceId: a.applianceId, siteId: a.siteId, files: a.files.length, plannedBytes: a.plannedBytes, heldBytes: a.heldBytes,
      addBytes: a.addBytes, churnBudgetBytes: a.churnBudgetBytes, capacityBytes: a.capacityBytes,
    }));
    const run: PlanRun = {
      id, at: now, trigger, durationMs: Math.round(performance.now() - started), titles: cat.titleIds.length, files: cat.fileIds.length,
      stats: plan.stats, churn,
    };
    this.#lastRun = run;
    metrics.fillPlans.inc({ trigger });
    const g = metrics.fillPlan;
    g.set({ figure: 'duration_seconds' }, run.durationMs / 1000);
    g.set({ figure: 'appliances' }, plan.stats.appliances);
    g.set({ figure: 'titles_placed' }, plan.stats.titlesPlaced);
    g.set({ figure: 'titles_unplaced' }, plan.stats.titlesUnplaced);
    g.set({ figure: 'files_placed' }, plan.stats.filesPlaced);
    g.set({ figure: 'copies' }, plan.stats.copies);
    g.set({ figure: 'planned_bytes' }, plan.stats.plannedBytes);
    g.set({ figure: 'add_bytes' }, plan.stats.addBytes);
    g.set({ figure: 'churn_max_share' }, churn.reduce((m, c) => Math.max(m, c.capacityBytes > 0 ? c.addBytes / c.capacityBytes : 0), 0));
    this.#d.log.info({ plan: id, trigger, durationMs: run.durationMs, ...plan.stats, perSite: undefined }, 'fill plan');
    return run;
  }

  siteMembers(siteId: string): readonly ApplianceState[] {
    const { fleet } = this.#d;
    if (this.#membersOf !== fleet.size) {
      this.#members.clear();
      for (const a of fleet.all()) {
        const list = this.#members.get(a.site.siteId) ?? [];
        list.push(a);
        this.#members.set(a.site.siteId, list);
      }
      this.#membersOf = fleet.size;
    }
    return this.#members.get(siteId) ?? [];
  }

  manifest(a: ApplianceState): BuiltManifest | undefined {
    return this.manifests.get(a, this.#current, this.#d.now());
  }

  /** An accepted report: remember bad copies it names. */
  onReport(a: ApplianceState, fill: FillReport | undefined): void {
    if (fill && fill.badSources.length > 0) this.bad.ingest(a.id, a.site.region, fill.badSources, this.#d.now());
  }

  /** A site's kind, region, time zone or window changed. */
  siteChanged(): void {
    this.windows.siteChanged();
    this.#membersOf = -1;
  }

  /** Count a heartbeat's bytes toward popularity; `before` is the session as it was before this heartbeat. */
  recordHeartbeat(before: SessionRow, region: string, hb: { positionMs: number; bitrateKbps: number }): void {
    const { catalog, now, settings, metrics } = this.#d;
    const title = catalog.get(before.titleId);
    if (!title) return;
    const at = now();
    const ms = playedMs({ at: before.lastHeartbeatAt, positionMs: before.positionMs }, { at, positionMs: hb.positionMs }, settings.sessionTtlMs);
    const views = heartbeatViews(title.manifest.files, title.manifest.durationMs, hb.bitrateKbps, ms);
    if (views.length === 0) return;
    this.book.record(region, views, at);
    metrics.popularityViews.inc(views.reduce((n, v) => n + v.views, 0));
  }
}
