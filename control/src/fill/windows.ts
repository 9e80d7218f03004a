// When and how fast appliances fill: each site's stored fill window in its own time zone (Open
// Connect's default is 02:00–14:00 local), its fill rate per appliance and peer-serve rate (the
// settings' defaults unless an operator set them for the site), and the operator's "fill now"
// deadlines per site and per appliance. Held in memory, written through to the store; what
// another control instance set arrives through the change feed (cluster-sync.ts, adopt*).

import { fillWindowState } from '../../../protocol/index.ts';
import type { FillWindow, FillWindowState } from '../../../protocol/index.ts';
import type { ApplianceFillNow, Repository, Site, SiteFill } from '../store/repository.ts';

export interface FillRates { rateLimitBps: number; peerServeRateBps: number }

export interface SiteFillView extends FillRates {
  /** the site's own rates; null = the default */
  overrides: { rateLimitBps: number | null; peerServeRateBps: number | null };
  fillNowUntil: number | null;
}

export class FillWindows {
  /** bumped on every change, so cached manifests know to rebuild */
  generation = 0;
  #repo: Repository;
  #defaults: FillRates;
  #sites = new Map<string, SiteFill>();
  #appliances = new Map<string, number | null>();

  private constructor(repo: Repository, defaults: FillRates) {
    this.#repo = repo;
    this.#defaults = defaults;
  }

  /** The stored overrides and deadlines, in memory. */
  static async load(repo: Repository, defaults: FillRates): Promise<FillWindows> {
    const w = new FillWindows(repo, defaults);
    for (const f of await repo.listSiteFill()) w.#sites.set(f.siteId, f);
    for (const a of await repo.listApplianceFillNow()) w.#appliances.set(a.applianceId, a.fillNowUntil);
    return w;
  }

  /** a site's window or time zone changed */
  siteChanged(): void { this.generation++; }

  site(siteId: string): SiteFillView {
    const f = this.#sites.get(siteId);
    const overrides = { rateLimitBps: f?.rateLimitBps ?? null, peerServeRateBps: f?.peerServeRateBps ?? null };
    return {
      rateLimitBps: overrides.rateLimitBps ?? this.#defaults.rateLimitBps,
      peerServeRateBps: overrides.peerServeRateBps ?? this.#defaults.peerServeRateBps,
      overrides, fillNowUntil: f?.fillNowUntil ?? null,
    };
  }

  async #put(siteId: string, change: Partial<Omit<SiteFill, 'siteId'>>): Promise<SiteFillView> {
    const before = this.#sites.get(siteId) ?? { siteId, rateLimitBps: null, peerServeRateBps: null, fillNowUntil: null };
    const next = { ...before, ...change };
    await this.#repo.putSiteFill(next);
    this.#sites.set(siteId, next);
    this.generation++;
    return this.site(siteId);
  }

  /** null resets a rate to the default; undefined leaves it */
  setRates(siteId: string, r: { rateLimitBps?: number | null; peerServeRateBps?: number | null }): Promise<SiteFillView> {
    const change: Partial<SiteFill> = {};
    if (r.rateLimitBps !== undefined) change.rateLimitBps = r.rateLimitBps;
    if (r.peerServeRateBps !== undefined) change.peerServeRateBps = r.peerServeRateBps;
    return this.#put(siteId, change);
  }

  fillSiteNow(siteId: string, until: number | null): Promise<SiteFillView> { return this.#put(siteId, { fillNowUntil: until }); }

  async fillApplianceNow(applianceId: string, until: number | null): Promise<void> {
    await this.#repo.setApplianceFillNow(applianceId, until);
    this.#appliances.set(applianceId, until);
    this.generation++;
  }

  /** another control instance set a site's overrides or deadline */
  adoptSite(f: SiteFill): void {
    this.#sites.set(f.siteId, f);
    this.generation++;
  }

  /** another control instance set an appliance's deadline */
  adoptAppliance(f: ApplianceFillNow): void {
    this.#appliances.set(f.applianceId, f.fillNowUntil);
    this.generation++;
  }

  applianceFillNow(applianceId: string): number | null { return this.#appliances.get(applianceId) ?? null; }

  /** the later of the site's and the appliance's deadline */
  fillNowUntil(siteId: string, applianceId: string): number | null {
    const s = this.#sites.get(siteId)?.fillNowUntil ?? null;
    const a = this.#appliances.get(applianceId) ?? null;
    return s === null ? a : a === null ? s : Math.max(s, a);
  }

  window(site: Site): FillWindow {
    return { timeZone: site.timeZone, start: site.fillWindow.start, end: site.fillWindow.end };
  }

  state(site: Site, applianceId: string, now: number): FillWindowState {
    return fillWindowState(this.window(site), now, this.fillNowUntil(site.siteId, applianceId));
  }
}
