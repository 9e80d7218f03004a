// What steering reads about each appliance, by slot, in small typed arrays: a decision looks at
// a dozen appliances and, read from their state objects, each cost several cache misses (the
// object, its site, its health). Here the whole fleet's steering view is ~25 bytes an appliance
// and stays cache-warm. The fleet refreshes a slot whenever it changes that appliance's state.

import { heardAt, type ApplianceState, type HealthPolicy } from './appliance-state.ts';

export class Slots {
  /** 1 when not failing, not draining (either way) and not overloaded: healthy unless stale */
  ok = new Uint8Array(0);
  /** 1 when the box reports itself degraded (serving, but something needs an operator): ranked after healthy boxes */
  degraded = new Uint8Array(0);
  /** control's clock at the last accepted report (or a restart's grace, heardAt); -Infinity before the first */
  lastReport = new Float64Array(0);
  /** utilisation in 10% steps (finer differences would make the choice follow noise) */
  loadBucket = new Uint8Array(0);
  idHash = new Uint32Array(0);
  embedded = new Uint8Array(0);
  /** scratch for steering: the decision that last looked at this slot */
  mark = new Int32Array(0);
  apps: ApplianceState[] = [];

  ensure(n: number): void {
    if (n <= this.ok.length) return;
    const cap = Math.max(n, this.ok.length * 2, 64);
    const grow = <T extends Uint8Array | Float64Array | Uint32Array | Int32Array>(old: T, make: (c: number) => T): T => {
      const a = make(cap);
      a.set(old);
      return a;
    };
    this.ok = grow(this.ok, (c) => new Uint8Array(c));
    this.degraded = grow(this.degraded, (c) => new Uint8Array(c));
    this.lastReport = grow(this.lastReport, (c) => new Float64Array(c));
    this.loadBucket = grow(this.loadBucket, (c) => new Uint8Array(c));
    this.idHash = grow(this.idHash, (c) => new Uint32Array(c));
    this.embedded = grow(this.embedded, (c) => new Uint8Array(c));
    this.mark = grow(this.mark, (c) => new Int32Array(c));
  }

  /** Refresh the slot from the appliance's state (statusOf's rules, less the clock). */
  sync(a: ApplianceState): void {
    const s = a.slot;
    this.ensure(s + 1);
    this.apps[s] = a;
    this.ok[s] = a.health.status !== 'failing' && !a.operatorDrain && !a.reportDraining && !a.overloaded ? 1 : 0;
    this.degraded[s] = a.health.status === 'degraded' ? 1 : 0;
    this.lastReport[s] = heardAt(a);
    this.loadBucket[s] = Math.min(255, Math.floor(a.utilisation * 10));
    this.idHash[s] = a.idHash;
    this.embedded[s] = a.site.kind === 'embedded' ? 1 : 0;
  }

  healthy(slot: number, now: number, p: HealthPolicy): boolean {
    return this.ok[slot] === 1 && now - this.lastReport[slot] <= p.staleAfterMs;
  }
}
