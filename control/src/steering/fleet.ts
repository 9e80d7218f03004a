// The in-memory fleet: every appliance's state and the route table. Reports are applied here
// synchronously (no I/O); the changed appliances are handed to `onDirty` so the caller can
// persist them in the background. Steering reads only these structures.

import type { ApplianceReport, ReportReply } from '../../../protocol/index.ts';
import type { Site } from '../store/repository.ts';
import { newApplianceState, nextOverloaded, statusOf, utilisationOf } from './appliance-state.ts';
import type { ApplianceState, ApplianceStatus, HealthPolicy } from './appliance-state.ts';
import { FileHolders } from './holders.ts';
import { RouteTable } from './route-table.ts';

const PAST_BOOTS_KEPT = 16;

export type ReportOutcome = ReportReply & { badPrefixes?: string[] };

/** What a report changed besides the small per-report state. */
export interface Changed { inventory: boolean; routes: boolean }

/** Persisted form of an appliance's per-report state (inventory and routes are kept apart). */
interface StateSnapshot {
  bootId?: string; seq: number; pastBoots: string[]; lastReportAt?: number;
  health: ApplianceReport['health']; reportDraining: boolean; load: ApplianceReport['load'];
  overloaded: boolean; tiers: ApplianceReport['tiers']; bgp: ApplianceReport['bgp']; softwareVersion: string;
  fill?: ApplianceReport['fill']; fillReportAt?: number;
}
interface InventorySnapshot { hash?: string; files: string[] }
interface RoutesSnapshot { hash?: string; routes: ApplianceState['routes'] }

export interface PersistedAppliance { snapshot: string | null; inventory: string | null; routes: string | null }

export class Fleet {
  readonly routes = new RouteTable();
  readonly holders = new FileHolders();
  readonly policy: HealthPolicy;
  #apps = new Map<string, ApplianceState>();
  #ixByRegion = new Map<string, ApplianceState[]>();
  #onDirty: (a: ApplianceState, changed: Changed) => void;

  constructor(policy: HealthPolicy, onDirty: (a: ApplianceState, changed: Changed) => void = () => {}) {
    this.policy = policy;
    this.#onDirty = onDirty;
  }

  get size(): number { return this.#apps.size; }
  get(id: string): ApplianceState | undefined { return this.#apps.get(id); }
  all(): IterableIterator<ApplianceState> { return this.#apps.values(); }
  ixInRegion(region: string): readonly ApplianceState[] { return this.#ixByRegion.get(region) ?? []; }
  status(a: ApplianceState, now: number): ApplianceStatus { return statusOf(a, now, this.policy); }

  add(id: string, site: Site, name: string, publicUrl: string, operatorDrain = false, persisted?: PersistedAppliance): ApplianceState {
    const a = newApplianceState(id, this.#apps.size, site, name, publicUrl, operatorDrain);
    this.holders.ensure(a.slot + 1);
    this.#apps.set(id, a);
    if (site.kind === 'ix') {
      const list = this.#ixByRegion.get(site.region) ?? [];
      list.push(a);
      this.#ixByRegion.set(site.region, list);
    }
    if (persisted) this.#restore(a, persisted);
    return a;
  }

  /** A site's kind or region changed: its appliances follow, and the IX index is rebuilt. */
  updateSite(site: Site): void {
    this.#ixByRegion.clear();
    for (const a of this.#apps.values()) {
      if (a.site.siteId === site.siteId) a.site = site;
      if (a.site.kind === 'ix') {
        const list = this.#ixByRegion.get(a.site.region) ?? [];
        list.push(a);
        this.#ixByRegion.set(a.site.region, list);
      }
    }
  }

  setOperatorDrain(id: string, drain: boolean): void {
    const a = this.#apps.get(id);
    if (a) a.operatorDrain = drain;
  }

  /**
   * Apply one report. A replay (same boot, seq not above the last) or a late report from an
   * earlier boot is ignored and changes nothing.
   */
  applyReport(a: ApplianceState, r: ApplianceReport, now: number): ReportOutcome {
    if (r.bootId === a.bootId) {
      if (r.seq <= a.seq) return { ok: false, ignored: true };
    } else {
      if (a.pastBoots.includes(r.bootId)) return { ok: false, ignored: true };
      if (a.bootId !== undefined) a.pastBoots = [...a.pastBoots, a.bootId].slice(-PAST_BOOTS_KEPT);
      a.bootId = r.bootId;
    }
    a.seq = r.seq;
    a.lastReportAt = now;
    a.health = r.health;
    a.reportDraining = r.draining;
    a.load = r.load;
    a.utilisation = utilisationOf(r.load);
    a.overloaded = nextOverloaded(a.overloaded, a.utilisation, this.policy);
    a.tiers = r.tiers;
    a.bgp = r.bgp;
    a.softwareVersion = r.softwareVersion;
    if (r.fill) {
      a.fill = r.fill;
      a.fillReportAt = now;
    }

    const reply: ReportOutcome = { ok: true };
    const changed: Changed = { inventory: false, routes: false };
    const inv = r.inventory;
    if (inv?.kind === 'full' || (inv?.kind === 'delta' && a.inventoryHash !== undefined && inv.baseHash === a.inventoryHash)) {
      changed.inventory = inv.hash !== a.inventoryHash;
    }
    if (inv?.kind === 'full') {
      this.#setInventory(a, new Set(inv.files));
      a.inventoryHash = inv.hash;
    } else if (inv?.kind === 'delta' && a.inventoryHash !== undefined && inv.baseHash === a.inventoryHash) {
      for (const f of inv.removed) {
        a.inventory.delete(f);
        this.holders.remove(f, a.slot);
      }
      for (const f of inv.added) {
        a.inventory.add(f);
        this.holders.add(f, a.slot);
      }
      a.inventoryHash = inv.hash;
    } else if (inv?.kind === 'delta' || a.inventoryHash === undefined) {
      // A delta against a base we do not hold: keep serving what we knew, ask for the full set.
      if (a.inventoryHash !== undefined) changed.inventory = true;
      a.inventoryHash = undefined;
      reply.needInventory = true;
    }

    if (r.prefixes?.routes !== undefined) {
      const bad = this.routes.replace(a, r.prefixes.routes);
      a.prefixHash = r.prefixes.hash;
      changed.routes = true;
      if (bad.length > 0) reply.badPrefixes = bad;
    } else if (r.prefixes === undefined ? a.prefixHash === undefined : r.prefixes.hash !== a.prefixHash) {
      reply.needPrefixes = true;
    }
    // Always state the flag, so the appliance sees a drain lift as well as start.
    reply.drain = a.operatorDrain;
    this.#onDirty(a, changed);
    return reply;
  }

  #setInventory(a: ApplianceState, files: Set<string>): void {
    for (const f of a.inventory) if (!files.has(f)) this.holders.remove(f, a.slot);
    for (const f of files) this.holders.add(f, a.slot);
    a.inventory = files;
  }

  stateSnapshot(a: ApplianceState): string {
    const s: StateSnapshot = {
      bootId: a.bootId, seq: a.seq, pastBoots: a.pastBoots, lastReportAt: a.lastReportAt, health: a.health,
      reportDraining: a.reportDraining, load: a.load, overloaded: a.overloaded, tiers: a.tiers, bgp: a.bgp,
      softwareVersion: a.softwareVersion, fill: a.fill, fillReportAt: a.fillReportAt,
    };
    return JSON.stringify(s);
  }

  inventorySnapshot(a: ApplianceState): string {
    const s: InventorySnapshot = { hash: a.inventoryHash, files: [...a.inventory] };
    return JSON.stringify(s);
  }

  routesSnapshot(a: ApplianceState): string {
    const s: RoutesSnapshot = { hash: a.prefixHash, routes: a.routes };
    return JSON.stringify(s);
  }

  #restore(a: ApplianceState, p: PersistedAppliance): void {
    if (p.snapshot) {
      const s = JSON.parse(p.snapshot) as StateSnapshot;
      Object.assign(a, {
        bootId: s.bootId, seq: s.seq, pastBoots: s.pastBoots, lastReportAt: s.lastReportAt, health: s.health,
        reportDraining: s.reportDraining, load: s.load, utilisation: utilisationOf(s.load), overloaded: s.overloaded,
        tiers: s.tiers, bgp: s.bgp, softwareVersion: s.softwareVersion, fill: s.fill, fillReportAt: s.fillReportAt,
      });
    }
    if (p.inventory) {
      const s = JSON.parse(p.inventory) as InventorySnapshot;
      this.#setInventory(a, new Set(s.files));
      a.inventoryHash = s.hash;
    }
    if (p.routes) {
      const s = JSON.parse(p.routes) as RoutesSnapshot;
      this.routes.replace(a, s.routes);
      a.prefixHash = s.hash;
    }
  }
}
