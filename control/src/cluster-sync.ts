// Several control instances on one database: what another instance wrote reaches this one's
// memory. Steering reads only memory (the fleet's route table and appliance states, the
// catalogue, fill windows), so a report accepted by instance A must be applied to B's fleet too:
// its per-report state, and its routes as the entries A appended to the route log
// (steering/route-log.ts), replayed in order. The store
// signals a write (PostgreSQL NOTIFY) and this reads every row past the last version it saw;
// a poll every report interval covers a signal lost between reconnects. With the embedded
// SQLite store there are no other writers and each read returns nothing.

import type { Control } from './control.ts';
import { decodeEntry } from './steering/route-log.ts';
import type { Changes, Site } from './store/repository.ts';

export class ClusterSync {
  #c: Control;
  #since: number;
  #sites = new Map<string, Site>();
  #running: Promise<void> | undefined;
  #again = false;
  #stopWatch: (() => Promise<void>) | undefined;
  #poll: NodeJS.Timeout | undefined;
  /** reads that brought something, and appliances adopted (for tests and metrics) */
  readonly stats = { reads: 0, appliancesAdopted: 0, routeEntries: 0 };

  /** `since`: the change version read before the store's state was loaded into memory */
  constructor(c: Control, since: number, sites: Site[]) {
    this.#c = c;
    this.#since = since;
    for (const s of sites) this.#sites.set(s.siteId, s);
  }

  async start(pollMs: number): Promise<void> {
    this.#stopWatch = await this.#c.repo.watchChanges(() => this.kick());
    this.#poll = setInterval(() => this.kick(), pollMs);
    this.#poll.unref();
  }

  /** Read now, or again right after the read in progress. */
  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#read().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** The read in progress, if any, has finished. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#poll);
    await this.#stopWatch?.();
    await this.settled();
  }

  async #read(): Promise<void> {
    let ch: Changes;
    try {
      ch = await this.#c.repo.changesSince(this.#since);
    } catch (err) {
      this.#c.log.error({ err }, 'reading other instances\' changes failed; will retry');
      return;
    }
    this.#apply(ch);
    this.#since = ch.version;
  }

  #apply(ch: Changes): void {
    const { fleet, catalog, fill } = this.#c;
    if (ch.sites.length + ch.titles.length + ch.appliances.length + ch.routeLog.length + ch.siteFill.length + ch.applianceFillNow.length > 0) this.stats.reads++;
    for (const s of ch.sites) {
      this.#sites.set(s.siteId, s);
      fleet.updateSite(s);
    }
    if (ch.sites.length > 0) fill.siteChanged();
    for (const t of ch.titles) catalog.adopt(t);
    for (const row of ch.appliances) {
      const a = fleet.get(row.applianceId);
      if (!a) {
        const site = this.#sites.get(row.siteId);
        if (site) {
          fleet.add(row.applianceId, site, row.name, row.publicUrl, row.operatorDrain, row);
          this.stats.appliancesAdopted++;
        }
        continue;
      }
      if (a.operatorDrain !== row.operatorDrain) fleet.setOperatorDrain(a.id, row.operatorDrain);
      if (fleet.adopt(a, row)) {
        this.stats.appliancesAdopted++;
        if (row.inventory !== null) fill.manifests.inventoryChanged(a);
      }
    }
    // after the appliances: an entry may be for one adopted just now
    for (const e of ch.routeLog) {
      const a = fleet.get(e.applianceId);
      if (!a) continue;
      fleet.replayRoutes(a, decodeEntry(e));
      this.stats.routeEntries++;
    }
    for (const f of ch.siteFill) fill.windows.adoptSite(f);
    for (const f of ch.applianceFillNow) fill.windows.adoptAppliance(f);
  }
}
