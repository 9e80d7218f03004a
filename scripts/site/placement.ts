// Fill places the sample title on the appliances the way an operator would get it there before a
// premiere: run the planner now (POST /v1/fill/plan) and open each site's fill outside its window
// (POST /v1/sites/:id/fill-now), then wait until every planned appliance holds its plan.

import type { ControlApi } from '../lib/control-api.ts';
import { ok } from '../lib/control-api.ts';
import { REGION } from './topology.ts';

/** how long "fill now" stays open after a start: new titles packaged meanwhile fill too */
export const FILL_NOW_MINUTES = 24 * 60;

interface FillStatus {
  sites: Array<{ siteId: string; appliances: Array<{ name: string; planned: boolean; plannedFiles: number; heldFiles: number }> }>;
}

export interface Steering {
  targets: Array<{ tier: string; applianceId?: string; origin: string }>;
  miss?: string;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

export async function placeTitle(
  api: ControlApi,
  o: { titleId: string; sites: string[]; timeoutMs: number; log: (line: string) => void; signal?: AbortSignal },
): Promise<void> {
  await api.plan();
  for (const s of o.sites) await api.fillNow(s, FILL_NOW_MINUTES);
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  let planned = Date.now();
  for (;;) {
    o.signal?.throwIfAborted();
    const st = (await api.fillStatus()) as FillStatus;
    const apps = st.sites.filter((s) => o.sites.includes(s.siteId)).flatMap((s) => s.appliances);
    const line = apps.map((a) => `${a.name} ${a.planned ? `${a.heldFiles}/${a.plannedFiles}` : 'unplanned'}`).join(', ');
    if (line !== last) o.log(`site: fill: ${line} files`);
    last = line;
    const filled = apps.length > 0 && apps.every((a) => a.planned && a.plannedFiles > 0 && a.heldFiles >= a.plannedFiles);
    if (filled) return;
    if (apps.some((a) => !a.planned) && Date.now() - planned > 15_000) {
      // an appliance that had not reported its disks when the planner ran: plan again
      await api.plan();
      planned = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`fill did not place ${o.titleId} within ${Math.round(o.timeoutMs / 1000)} s (${line})`);
    await sleep(500, o.signal);
  }
}

/** Wait until every appliance of the site has learned prefixes over BGP (as control lists it). */
export async function waitPrefixes(api: ControlApi, siteId: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    o.signal?.throwIfAborted();
    const apps = (await api.appliances()).filter((a) => a.siteId === siteId);
    if (apps.length > 0 && apps.every((a) => Number(a.prefixes) > 0)) return;
    if (Date.now() > deadline) {
      throw new Error(`${siteId}: no prefixes from the router within ${Math.round(o.timeoutMs / 1000)} s (${apps.map((a) => `${a.name} ${JSON.stringify(a.bgp)}`).join(', ')})`);
    }
    await sleep(500, o.signal);
  }
}

/** Where control would send a viewer at `ip` for the title now (the operator's steering probe). */
export async function steeringFor(api: ControlApi, titleId: string, ip = '127.0.0.1'): Promise<Steering> {
  const q = new URLSearchParams({ ip, titleId, region: REGION });
  return ok(await api.op<Steering>('GET', `/v1/steering?${q}`), 'GET /v1/steering');
}
