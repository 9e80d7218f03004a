// What control knows about one appliance between reports, and the state machine over it:
// healthy, overloaded (with hysteresis), stale (no report for N intervals, judged against an
// injected clock at decision time, so no timer is needed), failing, draining.

import { RouteSetHash } from '../../../protocol/index.ts';
import type { ApplianceReport, RouteAttrs } from '../../../protocol/index.ts';
import type { Site } from '../store/repository.ts';

export type ApplianceStatus = 'healthy' | 'overloaded' | 'stale' | 'failing' | 'draining';

export interface ApplianceState {
  id: string;
  site: Site;
  name: string;
  publicUrl: string;
  /** FNV-1a of the id, mixed with the title's hash for rendezvous (consistent) hashing */
  idHash: number;
  operatorDrain: boolean;
  bootId: string | undefined;
  seq: number;
  /** earlier boot ids: a late report from one of them is out of order */
  pastBoots: string[];
  /** control's clock at the last accepted report */
  lastReportAt: number | undefined;
  /** control's clock when it started with this box still reporting (Fleet.graceAfterRestart): it
   *  counts as heard from then, so it is not stale before its next report could arrive */
  graceFrom: number | undefined;
  health: ApplianceReport['health'];
  reportDraining: boolean;
  load: ApplianceReport['load'];
  /** the larger of egress/capacity and CPU, 0..1 (no capacity reported counts as full) */
  utilisation: number;
  overloaded: boolean;
  tiers: ApplianceReport['tiers'];
  bgp: ApplianceReport['bgp'];
  softwareVersion: string;
  /** where viewers reach the box over HTTPS, from its report; undefined: plain publicUrl only */
  tlsUrl: string | undefined;
  /** the latest fill report (absent from appliances that do not fill) and control's clock when it came */
  fill: ApplianceReport['fill'];
  fillReportAt: number | undefined;
  inventory: Set<string>;
  inventoryHash: string | undefined;
  /** the reported routes, in no order (prefix-sets.ts keeps them and the route table in step;
   *  each route's record there knows its position here) */
  routes: RouteAttrs[];
  /** the appliance's hash of its route set, as last accepted; undefined = control asks for the full set */
  prefixHash: string | undefined;
  /** control's own running route-set hash over `routes` (protocol route-hash.ts) */
  routeSum: RouteSetHash;
  /** this appliance's bit in the per-file holder sets (holders.ts) and its index in slots.ts */
  slot: number;
}

export interface HealthPolicy {
  staleAfterMs: number;
  overloadEnter: number;
  overloadLeave: number;
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Rendezvous (highest random weight) hash: each (title, appliance) pair gets a stable score and
 * the highest wins. Steering uses it for cache affinity and the fill planner to place copies, so
 * among equal candidates steering prefers the appliance the planner put a title on first.
 */
export function affinity(keyHash: number, appHash: number): number {
  let h = (keyHash ^ appHash) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function newApplianceState(id: string, slot: number, site: Site, name: string, publicUrl: string, operatorDrain: boolean): ApplianceState {
  return {
    id, slot, site, name, publicUrl, idHash: fnv1a(id), operatorDrain,
    bootId: undefined, seq: -1, pastBoots: [], lastReportAt: undefined, graceFrom: undefined,
    health: { status: 'ok', reasons: [] }, reportDraining: false,
    load: { egressBps: 0, capacityBps: 0, connections: 0, cpu: 0 }, utilisation: 0, overloaded: false,
    tiers: [], bgp: [], softwareVersion: '', tlsUrl: undefined, fill: undefined, fillReportAt: undefined, inventory: new Set(), inventoryHash: undefined,
    routes: [], prefixHash: undefined, routeSum: new RouteSetHash(),
  };
}

/** The HTTPS URL a report names, if the box has a certificate to serve on it (else https would only fail). */
export function tlsUrlOf(r: ApplianceReport): string | undefined {
  return r.tls && r.tls.certificate !== null ? r.tls.url.replace(/\/+$/, '') : undefined;
}

/** The base URL manifests send viewers to: HTTPS when the box serves it (a web player on an
 *  https:// page cannot fetch http:// media), else the URL it enrolled with. */
export function viewerBaseUrl(a: ApplianceState): string {
  return a.tlsUrl ?? a.publicUrl;
}

export function utilisationOf(load: ApplianceReport['load']): number {
  const egress = load.capacityBps > 0 ? load.egressBps / load.capacityBps : 1;
  return Math.max(egress, load.cpu);
}

/**
 * Hysteresis: a box enters overload at `enter` and leaves only below `leave`, so a box hovering
 * around one threshold does not flap in and out of every steering answer.
 */
export function nextOverloaded(wasOverloaded: boolean, utilisation: number, p: HealthPolicy): boolean {
  return wasOverloaded ? utilisation >= p.overloadLeave : utilisation >= p.overloadEnter;
}

/** When control last counted the box as heard from: its last report, or a restart's grace. */
export function heardAt(a: ApplianceState): number {
  return Math.max(a.lastReportAt ?? -Infinity, a.graceFrom ?? -Infinity);
}

export function statusOf(a: ApplianceState, now: number, p: HealthPolicy): ApplianceStatus {
  if (!(now - heardAt(a) <= p.staleAfterMs)) return 'stale';
  if (a.health.status === 'failing') return 'failing';
  if (a.operatorDrain || a.reportDraining) return 'draining';
  if (a.overloaded) return 'overloaded';
  return 'healthy';
}
