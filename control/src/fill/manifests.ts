// Fill manifests (protocol/src/fill-manifest.ts), one per planned appliance, built from the
// current plan and control's live view: each file's ranked sources (file-sources.ts) are the peers
// of its site that hold it now, then the site's first fetcher of the file while it does not hold
// it yet, then the region's IX appliances that hold it or are planned to (for embedded sites),
// then the origin, minus sources that delivered a bad copy.
//
// The version is a hash of the content, so it changes exactly when the manifest does. Manifests
// are cached: a new plan, a window/rate/fill-now change, a bad copy or a re-issued peer token
// rebuild at once; changes in peers' inventory or health rebuild at most every
// `fillSourcesRefreshMs`, since every report of every box in the site could change them.

import { createHash } from 'node:crypto';
import type { FillManifest, FillSource } from '../../../protocol/index.ts';
import type { ApplianceState } from '../steering/appliance-state.ts';
import type { Fleet } from '../steering/fleet.ts';
import type { BadSources } from './bad-sources.ts';
import { fileSources, PlannedHolders, type Candidate } from './file-sources.ts';
import type { PeerKeys } from './peer-keys.ts';
import type { PlannedCatalog } from './plan-input.ts';
import { TIER_SSD } from './planner.ts';
import type { FillPlan } from './planner.ts';
import type { FillWindows } from './windows.ts';

export interface CurrentPlan { id: number; at: number; plan: FillPlan; catalog: PlannedCatalog }

export interface ManifestSettings {
  originUrl: string;
  fillPeerMs: number;
  fillTierMs: number;
  fillAllowOrigin: boolean;
  peerTokenTtlSec: number;
  fillSourcesRefreshMs: number;
}

export interface ManifestDeps {
  fleet: Fleet;
  windows: FillWindows;
  keys: PeerKeys;
  bad: BadSources;
  settings: ManifestSettings;
  /** every appliance of a site */
  siteMembers(siteId: string): readonly ApplianceState[];
}

export interface BuiltManifest { version: string; json: string; generatedAt: number }

interface Cached extends BuiltManifest { fixedKey: string; sourcesKey: string; builtAt: number }

export class FillManifests {
  #d: ManifestDeps;
  #cache = new Map<string, Cached>();
  #siteInventory = new Map<string, number>();
  #ixInventory = new Map<string, number>();
  #planned = new PlannedHolders();

  constructor(d: ManifestDeps) { this.#d = d; }

  /** an appliance's inventory changed: manifests listing it as a source may change */
  inventoryChanged(a: ApplianceState): void {
    this.#siteInventory.set(a.site.siteId, (this.#siteInventory.get(a.site.siteId) ?? 0) + 1);
    if (a.site.kind === 'ix') this.#ixInventory.set(a.site.region, (this.#ixInventory.get(a.site.region) ?? 0) + 1);
  }

  /** the version last built for the appliance (told in its last report reply), without building */
  lastVersion(applianceId: string): string | null { return this.#cache.get(applianceId)?.version ?? null; }

  /** the appliance's manifest now, or undefined when the plan has nothing for it */
  get(a: ApplianceState, current: CurrentPlan | undefined, now: number): BuiltManifest | undefined {
    if (!current || !current.plan.appliances.has(a.id)) return undefined;
    const { fleet, keys, bad, windows, settings } = this.#d;
    const site = a.site;
    const peers = this.#d.siteMembers(site.siteId).filter((p) => p !== a);
    const tier = site.kind === 'embedded' ? fleet.ixInRegion(site.region).filter((p) => p !== a) : [];
    const tokenSites = [site.siteId, ...new Set(tier.map((p) => p.site.siteId))];
    const token = keys.tokenFor(a.id, tokenSites, now, settings.peerTokenTtlSec);
    const group = (p: ApplianceState) => {
      const s = fleet.status(p, now);
      return s === 'healthy' ? 0 : s === 'stale' || s === 'failing' ? 2 : 1;
    };
    const peerC = peers.map((app) => ({ app, group: group(app) }));
    const tierC = tier.map((app) => ({ app, group: group(app) }));
    const fixedKey = [current.id, windows.generation, bad.stamp(site.region, now), token.token, site.siteId, site.region, site.kind, tokenSites.length].join('|');
    const sourcesKey = [
      this.#siteInventory.get(site.siteId) ?? 0, this.#ixInventory.get(site.region) ?? 0, group(a),
      peerC.map((c) => `${c.app.id}${c.group}`).join(','), tierC.map((c) => `${c.app.id}${c.group}`).join(','),
    ].join('|');
    const cached = this.#cache.get(a.id);
    if (cached && cached.fixedKey === fixedKey && (cached.sourcesKey === sourcesKey || now - cached.builtAt < settings.fillSourcesRefreshMs)) return cached;

    const body = this.#body(a, current, peerC, tierC, group, token.token, now);
    const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
    let built: BuiltManifest;
    if (cached && cached.version === version) {
      built = cached;
    } else {
      const { applianceId, siteId, region, ...rest } = body;
      const m: FillManifest = { version, applianceId, siteId, region, generatedAt: now, ...rest };
      built = { version, generatedAt: now, json: JSON.stringify(m) };
    }
    const next: Cached = { ...built, fixedKey, sourcesKey, builtAt: now };
    this.#cache.set(a.id, next);
    return next;
  }

  #body(
    a: ApplianceState, current: CurrentPlan, peers: Candidate[], tier: Candidate[], group: (p: ApplianceState) => number, token: string, now: number,
  ): Omit<FillManifest, 'version' | 'generatedAt'> {
    const { windows, keys, bad, settings } = this.#d;
    const asg = current.plan.appliances.get(a.id)!;
    const cat = current.catalog;
    const rank = current.plan.regions.get(asg.region)!.rank;
    const sources: FillSource[] = [
      ...peers.map((c) => ({ id: c.app.id, level: 'peer' as const, baseUrl: c.app.publicUrl })),
      ...tier.map((c) => ({ id: c.app.id, level: 'tier' as const, baseUrl: c.app.publicUrl })),
      { id: 'origin', level: 'origin', baseUrl: settings.originUrl.replace(/\/+$/, '') },
    ];
    const site = a.site;
    const groups = new Map([...peers, ...tier].map((c) => [c.app, c.group]));
    const ctx = {
      peers, tier, bad, now,
      sitePlan: this.#planned.of(`site:${site.siteId}`, current, this.#d.siteMembers(site.siteId)),
      tierPlan: site.kind === 'embedded' ? this.#planned.of(`ix:${site.region}`, current, this.#d.fleet.ixInRegion(site.region)) : null,
      group: (p: ApplianceState) => groups.get(p) ?? group(p),
    };
    const files: FillManifest['files'] = new Array(asg.files.length);
    for (let i = 0; i < asg.files.length; i++) {
      const f = asg.files[i];
      const fileId = cat.fileIds[f];
      files[i] = {
        fileId, bytes: cat.fileBytes[f], sha256: cat.sha256[f], kind: cat.kind[f], rank: rank[f],
        tier: asg.tiers[i] === TIER_SSD ? 'ssd' : 'hdd', ...fileSources(a, f, fileId, ctx),
      };
    }
    const rates = windows.site(a.site.siteId);
    return {
      applianceId: a.id, siteId: a.site.siteId, region: a.site.region,
      window: windows.window(a.site), fillNowUntil: windows.fillNowUntil(a.site.siteId, a.id),
      rateLimitBps: rates.rateLimitBps, peerServeRateBps: rates.peerServeRateBps,
      escalation: { peerMs: settings.fillPeerMs, tierMs: settings.fillTierMs, allowOrigin: settings.fillAllowOrigin },
      peer: { token, publicKeys: { ...keys.publicKeys } },
      sources, files,
    };
  }
}
