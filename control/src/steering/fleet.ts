// The in-memory fleet: every appliance's state and the route table. Reports are applied here
// synchronously (no I/O); the changed appliances are handed to `onDirty` so the caller can
// persist them in the background. Steering reads only these structures (and `slots`, the
// compact per-appliance copy of what it needs).

import type { ApplianceReport, PrefixDelta, ReportReply } from '../../../protocol/index.ts';
import type { Site } from '../store/repository.ts';
import { newApplianceState, nextOverloaded, statusOf, tlsUrlOf, utilisationOf } from './appliance-state.ts';
import type { ApplianceState, ApplianceStatus, HealthPolicy } from './appliance-state.ts';
import { FileHolders } from './holders.ts';
import { PrefixSets, type PrefixOutcome } from './prefix-sets.ts';
import type { DecodedEntry } from './route-log.ts';
import { RouteTable } from './route-table.ts';
import { Slots } from './slots.ts';

const PAST_BOOTS_KEPT = 16;
const NO_SLOTS = new Int32Array(0);
export type ReportOutcome = ReportReply & { badPrefixes?: string[] };

/**
 * What a report changed besides the small per-report state: the inventory, and the routes — a
 * full set, or the delta applied (the store logs either at once: route-log.ts).
 */
export interface Changed { inventory: boolean; routes?: 'full' | PrefixDelta }

/** Persisted form of an appliance's per-report state (inventory and routes are kept apart). */
interface StateSnapshot {
  bootId?: string; seq: number; pastBoots: string[]; lastReportAt?: number;
  health: ApplianceReport['health']; reportDraining: boolean; load: ApplianceReport['load'];
  overloaded: boolean; tiers: ApplianceReport['tiers']; bgp: ApplianceReport['bgp']; softwareVersion: string;
  fill?: ApplianceReport['fill']; fillReportAt?: number;
  /** HTTPS base URL (issue 11), so a restarted control keeps writing https:// for the box */
  tlsUrl?: string;
}
interface InventorySnapshot { hash?: string; files: string[] }
/** routes as stores kept them before the route log (route-log.ts); still read, never written */
interface RoutesSnapshot { hash?: string; routes: ApplianceState['routes'] }

export interface PersistedAppliance { snapshot: string | null; inventory: string | null; routes: string | null }

export class Fleet {
  readonly routes = new RouteTable();
  readonly holders = new FileHolders();
  readonly slots = new Slots();
  /** route-set hashes that differed from control's computation (full sets kept, deltas answered with needPrefixes); deltas applied and refused */
  readonly stats = { prefixHashMismatches: 0, prefixDeltasApplied: 0, prefixDeltasRefused: 0, routeEntriesReplayed: 0, replayMismatches: 0 };
  readonly #prefixes = new PrefixSets(this.routes);
  readonly policy: HealthPolicy;
  #apps = new Map<string, ApplianceState>();
  #ixByRegion = new Map<string, ApplianceState[]>();
  #ixSlots = new Map<string, Int32Array>();
  #onDirty: (a: ApplianceState, changed: Changed) => void;

  constructor(policy: HealthPolicy, onDirty: (a: ApplianceState, changed: Changed) => void = () => {}) {
    this.policy = policy;
    this.#onDirty = onDirty;
  }

  get size(): number { return this.#apps.size; }
  get(id: string): ApplianceState | undefined { return this.#apps.get(id); }
  all(): IterableIterator<ApplianceState> { return this.#apps.values(); }
  ixInRegion(region: string): readonly ApplianceState[] { return this.#ixByRegion.get(region) ?? []; }
  /** the same as slots (steering reads these without touching the state objects) */
  ixSlotsInRegion(region: string): Int32Array { return this.#ixSlots.get(region) ?? NO_SLOTS; }
  status(a: ApplianceState, now: number): ApplianceStatus { return statusOf(a, now, this.policy); }

  add(id: string, site: Site, name: string, publicUrl: string, operatorDrain = false, persisted?: PersistedAppliance): ApplianceState {
    const a = newApplianceState(id, this.#apps.size, site, name, publicUrl, operatorDrain);
    this.holders.ensure(a.slot + 1);
    this.#apps.set(id, a);
    this.slots.sync(a);
    if (site.kind === 'ix') {
      const list = this.#ixByRegion.get(site.region) ?? [];
      list.push(a);
      this.#ixByRegion.set(site.region, list);
      this.#ixSlots.set(site.region, Int32Array.from(list, (x) => x.slot));
    }
    if (persisted) this.#restore(a, persisted);
    return a;
  }

  /** A site's kind or region changed: its appliances follow, and the IX index is rebuilt. */
  updateSite(site: Site): void {
    this.#ixByRegion.clear();
    for (const a of this.#apps.values()) {
      if (a.site.siteId === site.siteId) {
        a.site = site;
        this.slots.sync(a);
      }
      if (a.site.kind === 'ix') {
        const list = this.#ixByRegion.get(a.site.region) ?? [];
        list.push(a);
        this.#ixByRegion.set(a.site.region, list);
      }
    }
    this.#ixSlots = new Map([...this.#ixByRegion].map(([region, list]) => [region, Int32Array.from(list, (x) => x.slot)]));
  }

  /**
   * Control (re)started with the fleet loaded from its database. A box that was reporting when
   * control stopped — its last report within one stale interval of the fleet's last — counts as
   * heard from now, so it stays steered to until its next report (one stale interval at most)
   * instead of going stale for however long control was down. A box already stale then stays
   * stale. Returns how many boxes got the grace.
   */
  graceAfterRestart(now: number): number {
    let last = -Infinity;
    for (const a of this.#apps.values()) last = Math.max(last, a.lastReportAt ?? -Infinity);
    let n = 0;
    for (const a of this.#apps.values()) {
      if (a.lastReportAt === undefined || last - a.lastReportAt > this.policy.staleAfterMs) continue;
      a.graceFrom = now;
      this.slots.sync(a);
      n++;
    }
    return n;
  }

  setOperatorDrain(id: string, drain: boolean): void {
    const a = this.#apps.get(id);
    if (a) {
      a.operatorDrain = drain;
      this.slots.sync(a);
    }
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
    a.tlsUrl = tlsUrlOf(r);
    if (r.fill) {
      a.fill = r.fill;
      a.fillReportAt = now;
    }

    const reply: ReportOutcome = { ok: true };
    const changed: Changed = { inventory: false };
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
        a.inventory.add(this.holders.add(f, a.slot));
      }
      a.inventoryHash = inv.hash;
    } else if (inv?.kind === 'delta' || a.inventoryHash === undefined) {
      // A delta against a base we do not hold: keep serving what we knew, ask for the full set.
      if (a.inventoryHash !== undefined) changed.inventory = true;
      a.inventoryHash = undefined;
      reply.needInventory = true;
    }

    const pr = r.prefixes;
    let out: PrefixOutcome | undefined;
    if (pr !== undefined && 'kind' in pr) {
      out = this.#prefixes.delta(a, pr);
      if (out.applied) changed.routes = pr;
      if (out.needFull) this.stats.prefixDeltasRefused++;
      else this.stats.prefixDeltasApplied++;
    } else if (pr !== undefined && (pr.routes !== undefined || pr.groups !== undefined)) {
      out = this.#prefixes.full(a, pr.routes ?? [], pr.hash, pr.groups);
      changed.routes = 'full';
    } else if (pr === undefined ? a.prefixHash === undefined : pr.hash !== a.prefixHash) {
      reply.needPrefixes = true;
    }
    if (out?.needFull) reply.needPrefixes = true;
    if (out?.mismatch) this.stats.prefixHashMismatches++;
    if (out && out.bad.length > 0) reply.badPrefixes = out.bad;
    this.slots.sync(a);
    // Always state the flag, so the appliance sees a drain lift as well as start.
    reply.drain = a.operatorDrain;
    this.#onDirty(a, changed);
    return reply;
  }

  #setInventory(a: ApplianceState, files: Set<string>): void {
    for (const f of a.inventory) if (!files.has(f)) this.holders.remove(f, a.slot);
    const kept = new Set<string>();
    for (const f of files) kept.add(this.holders.add(f, a.slot));
    a.inventory = kept;
  }

  stateSnapshot(a: ApplianceState): string {
    const s: StateSnapshot = {
      bootId: a.bootId, seq: a.seq, pastBoots: a.pastBoots, lastReportAt: a.lastReportAt, health: a.health,
      reportDraining: a.reportDraining, load: a.load, overloaded: a.overloaded, tiers: a.tiers, bgp: a.bgp,
      softwareVersion: a.softwareVersion, fill: a.fill, fillReportAt: a.fillReportAt, tlsUrl: a.tlsUrl,
    };
    return JSON.stringify(s);
  }

  inventorySnapshot(a: ApplianceState): string {
    const s: InventorySnapshot = { hash: a.inventoryHash, files: [...a.inventory] };
    return JSON.stringify(s);
  }

  /**
   * An entry of the appliance's route log (route-log.ts), written by another control instance or
   * before a restart: applied as a report's routes are, so a delta is checked by the route-set
   * hash. A result that does not match leaves the hash unknown, and the appliance's next report
   * here is asked for its full set. Not handed to onDirty: it is in the store already.
   */
  replayRoutes(a: ApplianceState, e: DecodedEntry): void {
    this.stats.routeEntriesReplayed++;
    // a delta entry holds the deltas of one flush, in order: each is checked against the hash the
    // one before led to, and the first that does not match ends the entry
    const steps = e.full ? [() => this.#prefixes.full(a, [], e.hash, e.groups)] : e.deltas.map((d) => () => this.#prefixes.delta(a, d));
    for (const step of steps) {
      const out = step();
      if (out.mismatch || out.needFull) {
        this.stats.replayMismatches++;
        a.prefixHash = undefined;
        break;
      }
    }
    this.slots.sync(a);
  }

  /**
   * Another control instance accepted reports from this appliance (several instances on one
   * database): take the state it stored if it is newer than what this instance holds (same boot
   * and a higher seq, or a later boot), with the inventory and routes that came with it. Not handed
   * to onDirty: it is in the store already. Returns whether it was taken.
   */
  adopt(a: ApplianceState, p: PersistedAppliance): boolean {
    if (!p.snapshot) return false;
    const s = JSON.parse(p.snapshot) as StateSnapshot;
    const newer = s.bootId === a.bootId ? s.seq > a.seq
      : a.bootId === undefined || s.pastBoots.includes(a.bootId) || (s.bootId !== undefined && !a.pastBoots.includes(s.bootId) && (s.lastReportAt ?? 0) > (a.lastReportAt ?? 0));
    if (!newer) return false;
    this.#restore(a, p, s);
    return true;
  }

  #restore(a: ApplianceState, p: PersistedAppliance, parsed?: StateSnapshot): void {
    if (p.snapshot) {
      const s = parsed ?? JSON.parse(p.snapshot) as StateSnapshot;
      Object.assign(a, {
        bootId: s.bootId, seq: s.seq, pastBoots: s.pastBoots, lastReportAt: s.lastReportAt, health: s.health,
        reportDraining: s.reportDraining, load: s.load, utilisation: utilisationOf(s.load), overloaded: s.overloaded,
        tiers: s.tiers, bgp: s.bgp, softwareVersion: s.softwareVersion, fill: s.fill, fillReportAt: s.fillReportAt,
        tlsUrl: s.tlsUrl,
      });
    }
    if (p.inventory) {
      const s = JSON.parse(p.inventory) as InventorySnapshot;
      this.#setInventory(a, new Set(s.files));
      a.inventoryHash = s.hash;
    }
    if (p.routes) {
      const s = JSON.parse(p.routes) as RoutesSnapshot;
      this.#prefixes.full(a, s.routes, s.hash ?? '');
      a.prefixHash = s.hash;
    }
    this.slots.sync(a);
  }
}
