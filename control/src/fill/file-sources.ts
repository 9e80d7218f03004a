// One file's ranked sources in one appliance's fill manifest (manifests.ts): Open Connect's peer
// fill → tier fill → cache fill, with one first fetcher per file and site, so the boxes of a site
// that start filling together do not all fetch the same file from the origin at the same moment.
//
// - Peers: the appliances of the site that hold the file now (healthy first, then busy or
//   draining, stale or failing last; within a group by the file's rendezvous hash, so peers share
//   the load), then the site's first fetcher of the file if it does not hold it yet. The first
//   fetcher is the file's planned holder at the top of its rendezvous order (one that is not
//   stale or failing, while there is one): deterministic, so every manifest of the site names the
//   same one, and spread over the site like the files themselves.
// - Tier (embedded sites): the region's IX appliances that hold it, then those planned to hold it.
// - The origin.
// Sources listed before they hold the file are named in the file's `notYet`: a 404 from them means
// "not yet", and the appliance comes back to the file until the escalation policy's time for that
// level is spent. The first fetcher's own list has no planned peer, so it starts at the tier (or
// the origin). A source that delivered a bad copy of the file is left out.

import type { FillFile } from '../../../protocol/index.ts';
import { affinity, fnv1a } from '../steering/appliance-state.ts';
import type { ApplianceState } from '../steering/appliance-state.ts';
import type { BadSources } from './bad-sources.ts';
import type { CurrentPlan } from './manifests.ts';

export const MAX_PEERS = 12;
export const MAX_TIER = 3;

/** An appliance that may be a source, with its health group: 0 healthy, 1 busy or draining, 2 stale or failing. */
export interface Candidate { app: ApplianceState; group: number }

export interface SourceContext {
  /** the other appliances of the site */
  peers: Candidate[];
  /** the region's IX appliances (embedded sites only; empty otherwise) */
  tier: Candidate[];
  /** file index → the site's appliances the plan puts it on (the asking appliance included) */
  sitePlan: ReadonlyMap<number, readonly ApplianceState[]>;
  /** file index → the region's IX appliances the plan puts it on; null for an IX site */
  tierPlan: ReadonlyMap<number, readonly ApplianceState[]> | null;
  group(app: ApplianceState): number;
  bad: BadSources;
  now: number;
}

/** Per plan and group of appliances (a site, or a region's IX tier): the appliances each file is planned on. */
export class PlannedHolders {
  #cache = new Map<string, { planId: number; members: readonly ApplianceState[]; byFile: Map<number, ApplianceState[]> }>();

  of(key: string, current: CurrentPlan, members: readonly ApplianceState[]): ReadonlyMap<number, readonly ApplianceState[]> {
    const hit = this.#cache.get(key);
    if (hit && hit.planId === current.id && hit.members === members) return hit.byFile;
    const byFile = new Map<number, ApplianceState[]>();
    for (const m of members) {
      const asg = current.plan.appliances.get(m.id);
      if (!asg) continue;
      for (const f of asg.files) {
        const list = byFile.get(f);
        if (list) list.push(m);
        else byFile.set(f, [m]);
      }
    }
    this.#cache.set(key, { planId: current.id, members, byFile });
    return byFile;
  }
}

/** The file's first fetcher among its planned holders: not stale or failing while one is not, then the highest rendezvous weight. */
export function firstFetcher(planned: readonly ApplianceState[] | undefined, fileHash: number, group: (app: ApplianceState) => number): ApplianceState | undefined {
  let best: ApplianceState | undefined;
  let bestDown = true;
  let bestWeight = -1;
  for (const app of planned ?? []) {
    const down = group(app) === 2;
    const weight = affinity(fileHash, app.idHash);
    if (best === undefined || (bestDown && !down) || (down === bestDown && weight > bestWeight)) {
      best = app;
      bestDown = down;
      bestWeight = weight;
    }
  }
  return best;
}

/** The sources of catalogue file `f` (`fileId`) for appliance `a`, best first, and those that do not hold it yet. */
export function fileSources(a: ApplianceState, f: number, fileId: string, c: SourceContext): Pick<FillFile, 'sources' | 'notYet'> {
  const h = fnv1a(fileId);
  const checkBad = c.bad.has(fileId);
  const usable = (id: string) => !(checkBad && c.bad.isBad(fileId, id, c.now));
  const byGroupThenHash = (x: Candidate, y: Candidate) => x.group - y.group || affinity(h, y.app.idHash) - affinity(h, x.app.idHash);
  const holding = (list: Candidate[], max: number): string[] => {
    const held = list.filter((x) => x.app.inventory.has(fileId) && usable(x.app.id));
    if (held.length > 1) held.sort(byGroupThenHash);
    return held.slice(0, max).map((x) => x.app.id);
  };
  const notYet: string[] = [];
  const peers = holding(c.peers, MAX_PEERS);
  const first = firstFetcher(c.sitePlan.get(f), h, c.group);
  if (first && first !== a && !first.inventory.has(fileId) && usable(first.id) && peers.length < MAX_PEERS) {
    peers.push(first.id);
    notYet.push(first.id);
  }
  const tier: string[] = [];
  if (c.tierPlan) {
    tier.push(...holding(c.tier, MAX_TIER));
    const planned = (c.tierPlan.get(f) ?? [])
      .filter((app) => !app.inventory.has(fileId) && c.group(app) < 2 && usable(app.id))
      .map((app) => ({ app, group: c.group(app) }))
      .sort(byGroupThenHash);
    for (const x of planned) {
      if (tier.length >= MAX_TIER) break;
      tier.push(x.app.id);
      notYet.push(x.app.id);
    }
  }
  const sources = [...peers, ...tier];
  if (usable('origin')) sources.push('origin');
  return notYet.length > 0 ? { sources, notYet } : { sources };
}
