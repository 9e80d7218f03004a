// Issue 12 item 2: does a report that changes a few prefixes of an appliance holding 100,000 cost
// in proportion to the change? One more appliance reports 100k of the world's prefixes; then
// steering runs for a while with no updates (the steady figure) and again while that appliance
// sends single-prefix deltas at a fixed rate, each validated with the report schema and applied
// through Fleet.applyReport as the report route does. Time is sliced (10 ms) and the event loop
// gets a turn between slices, so control's background flush of dirty state runs as it would.

import { ApplianceReport, RouteSetHash } from '../../protocol/index.ts';
import type { RouteAttrs } from '../../protocol/index.ts';
import type { Control } from '../../control/src/control.ts';
import { encodeFull } from '../../control/src/steering/route-log.ts';
import type { Site } from '../../control/src/store/repository.ts';

export interface Decide { (): void }

export interface PhaseResult {
  seconds: number;
  decisions: number;
  decisionsPerSec: number;
  changes: number;
  changesPerSec: number;
  /** per change: schema validation + applyReport, in µs */
  change_p50_us: number | null;
  change_p99_us: number | null;
}

const quantile = (a: Float64Array, n: number, q: number) => (n === 0 ? null : a[Math.min(n - 1, Math.floor(q * n))]);

export class UpdatingAppliance {
  readonly id = 'app-updating';
  #c: Control;
  #routes: RouteAttrs[];
  #held: boolean[];
  #sum = new RouteSetHash();
  #hash = '';
  #seq = 1;
  #next = 0;

  constructor(c: Control, prefixes: readonly string[], count: number, region: string, titleFiles: string[]) {
    this.#c = c;
    const step = Math.max(1, Math.floor(prefixes.length / count));
    this.#routes = [];
    for (let i = 0; i < prefixes.length && this.#routes.length < count; i += step) this.#routes.push({ prefix: prefixes[i], asPathLength: 2, med: 10 });
    this.#held = this.#routes.map(() => true);
    for (const r of this.#routes) this.#sum.add(r);
    this.#hash = this.#sum.toString();
    const site: Site = { siteId: 'site-updating', kind: 'embedded', region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };
    const a = c.fleet.add(this.id, site, this.id, `http://${this.id}.example.net`);
    const out = c.fleet.applyReport(a, this.#report({ hash: this.#hash, routes: this.#routes }, titleFiles), c.now());
    if (out.needPrefixes) throw new Error('the updating appliance\'s full set was refused');
  }

  get routes(): number { return this.#sum.count; }

  #report(prefixes: ApplianceReport['prefixes'], files?: string[]): ApplianceReport {
    return {
      seq: this.#seq++, bootId: 'bench-updating', sentAt: this.#c.now(), softwareVersion: 'bench', draining: false,
      health: { status: 'ok', reasons: [] }, load: { egressBps: 1e10, capacityBps: 1e11, connections: 100, cpu: 0.2 },
      tiers: [], bgp: [], prefixes, ...(files ? { inventory: { kind: 'full' as const, hash: 'updating', files } } : {}),
    };
  }

  /** One single-prefix change: withdraw the next route, or announce it again if it was withdrawn. */
  change(): void {
    const i = this.#next;
    this.#next = (this.#next + 997) % this.#routes.length; // walk the set in a scattered order
    const r = this.#routes[i];
    const baseHash = this.#hash;
    if (this.#held[i]) this.#sum.remove(r);
    else this.#sum.add(r);
    this.#held[i] = !this.#held[i];
    this.#hash = this.#sum.toString();
    const delta = this.#held[i]
      ? { kind: 'delta' as const, baseHash, hash: this.#hash, announced: [r], withdrawn: [] }
      : { kind: 'delta' as const, baseHash, hash: this.#hash, announced: [], withdrawn: [{ prefix: r.prefix }] };
    const report = ApplianceReport.parse(this.#report(delta));
    const out = this.#c.fleet.applyReport(this.#c.fleet.get(this.id)!, report, this.#c.now());
    if (out.needPrefixes) throw new Error('a delta was refused: control and the bench disagree on the route set');
  }

  /** The full set again (what the same change would cost without deltas), in ms. */
  fullReplaceMs(): number {
    const routes = this.#routes.filter((_, i) => this.#held[i]).map((r) => ({ ...r, med: 11 }));
    const sum = new RouteSetHash();
    for (const r of routes) sum.add(r);
    const t0 = performance.now();
    const report = ApplianceReport.parse(this.#report({ hash: sum.toString(), routes }));
    this.#c.fleet.applyReport(this.#c.fleet.get(this.id)!, report, this.#c.now());
    const ms = performance.now() - t0;
    this.#sum = sum;
    this.#hash = sum.toString();
    this.#routes = this.#routes.map((r) => ({ ...r, med: 11 }));
    return ms;
  }

  /** Writing this appliance's route set to the store's route log as one full entry (a full report or a compaction; deltas are logged as they come), in ms. */
  async persistMs(): Promise<number> {
    const a = this.#c.fleet.get(this.id)!;
    const t0 = performance.now();
    await this.#c.repo.saveSnapshots([{ applianceId: a.id, state: this.#c.fleet.stateSnapshot(a), routeLog: [(await encodeFull(a))!] }]);
    return performance.now() - t0;
  }

  /** Steer for `seconds` while applying `rate` changes per second. */
  async phase(seconds: number, rate: number, decide: Decide): Promise<PhaseResult> {
    const lat = new Float64Array(Math.ceil(rate * seconds) + 16);
    let decisions = 0, changes = 0;
    const start = performance.now(), end = start + seconds * 1000;
    for (let now = start; now < end; now = performance.now()) {
      const due = Math.min(lat.length, Math.floor((rate * (now - start)) / 1000));
      while (changes < due) {
        const t = performance.now();
        this.change();
        lat[changes++] = (performance.now() - t) * 1000;
      }
      const sliceEnd = Math.min(end, now + 10);
      do {
        for (let k = 0; k < 32; k++) decide();
        decisions += 32;
      } while (performance.now() < sliceEnd);
      await new Promise<void>((r) => setImmediate(r));
    }
    const elapsed = (performance.now() - start) / 1000;
    const sorted = lat.subarray(0, changes).sort();
    return {
      seconds: elapsed, decisions, decisionsPerSec: decisions / elapsed, changes, changesPerSec: changes / elapsed,
      change_p50_us: quantile(sorted, changes, 0.5), change_p99_us: quantile(sorted, changes, 0.99),
    };
  }
}
