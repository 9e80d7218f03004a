// A synthetic fleet for the steering bench, deterministic from a seed: embedded sites of four
// appliances that all report the site's prefixes (as Open Connect asks of an ISP), one IX site
// per region, IPv4 and IPv6 prefixes of mixed lengths with covering aggregates, a catalogue of
// titles of which each appliance holds a random share, and a few unhealthy boxes.

import { formatPrefix } from '../../protocol/index.ts';
import type { ApplianceReport, RouteAttrs, TitleRecord } from '../../protocol/index.ts';
import type { Control } from '../../control/src/control.ts';
import type { Site } from '../../control/src/store/repository.ts';

export interface WorldSize { prefixes: number; appliances: number; titles: number; regions: number; seed: number }

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface World {
  /** client addresses to ask about: inside reported prefixes, plus some anywhere */
  clients: string[];
  titleIds: string[];
  regionOfSite: Map<string, string>;
  regions: string[];
  routeEntries: number;
}

function randomPrefix(r: () => number): string {
  if (r() < 0.7) {
    const length = 16 + Math.floor(r() * 9); // /16../24
    const bits = BigInt(Math.floor(r() * 2 ** 32)) & (((1n << BigInt(length)) - 1n) << BigInt(32 - length));
    return formatPrefix({ family: 4, bits, length });
  }
  const length = 32 + Math.floor(r() * 17); // /32../48 inside 2000::/3
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  v = (v & ((1n << 125n) - 1n)) | (1n << 125n);
  const bits = v & (((1n << BigInt(length)) - 1n) << BigInt(128 - length));
  return formatPrefix({ family: 6, bits, length });
}

function addressIn(prefix: string, r: () => number): string {
  const [addr, len] = prefix.split('/');
  if (!addr.includes(':')) {
    const host = 32 - Number(len);
    const base = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const v = base + Math.floor(r() * 2 ** host);
    return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
  }
  return addr.replace(/::$/, `::${Math.floor(r() * 0xffff).toString(16)}:1`);
}

export function titleRecordFor(titleId: string): TitleRecord {
  const kid = (n: number) => Buffer.from(`${titleId}:${n}`.padEnd(16, '.').slice(0, 16)).toString('hex');
  const file = (stream: string, n: number) => ({
    fileId: `${titleId}.${stream}`, kind: stream === 'a1' ? 'audio' as const : 'video' as const, mimeType: 'video/mp4', codecs: 'avc1',
    bandwidth: 1e6, bytes: 1e9, sha256: '0'.repeat(64), initRange: { start: 0, end: 9 }, indexRange: { start: 10, end: 99 }, kid: kid(n),
  });
  return {
    title: { titleId, name: titleId, regions: [] },
    manifest: {
      version: 1, titleId, durationMs: 3_600_000, files: [file('v1', 1), file('v2', 1), file('a1', 2)], kids: [kid(1), kid(2)],
      templates: { dash: '<MPD>{{BASE_URLS}}</MPD>', hls: { master: '#EXTM3U\n', media: {} } }, createdAt: '2026-01-01T00:00:00Z',
    },
    keys: [{ kid: kid(1), key: '11'.repeat(16), label: 'hd' }, { kid: kid(2), key: '22'.repeat(16), label: 'audio' }],
  };
}

/** Build the fleet straight into control's in-memory structures, through Fleet.applyReport. */
export function buildWorld(c: Control, size: WorldSize): World {
  const r = rng(size.seed);
  const regions = Array.from({ length: size.regions }, (_, i) => `r${i}`);
  const titleIds = Array.from({ length: size.titles }, (_, i) => `title-${i}`);
  for (const t of titleIds) c.catalog.register(titleRecordFor(t), c.now());
  const perSite = 4;
  const ixPerRegion = Math.max(1, Math.floor(size.appliances * 0.01 / size.regions));
  const embedded = size.appliances - ixPerRegion * size.regions;
  const siteCount = Math.ceil(embedded / perSite);
  const perSitePrefixes = Math.ceil(size.prefixes / siteCount);
  const regionOfSite = new Map<string, string>();
  const clients: string[] = [];
  const now = c.now();
  let made = 0, routeEntries = 0, appN = 0;
  const used = new Set<string>();

  const addAppliance = (site: Site, routes: RouteAttrs[]) => {
    const id = `app-${appN++}`;
    const a = c.fleet.add(id, site, id, `http://${id}.example.net`);
    const files: string[] = [];
    for (const t of titleIds) if (r() < 0.6) files.push(`${t}.v1`, `${t}.v2`, `${t}.a1`);
    const u = r();
    const report: ApplianceReport = {
      seq: 1, bootId: 'bench', sentAt: now, softwareVersion: 'bench', draining: u < 0.01,
      health: { status: u > 0.995 ? 'failing' : 'ok', reasons: [] },
      load: { egressBps: (u > 0.95 ? 0.93 : r() * 0.8) * 1e11, capacityBps: 1e11, connections: 1000, cpu: 0.3 },
      tiers: [], bgp: [], inventory: { kind: 'full', hash: id, files }, prefixes: { hash: id, routes },
    };
    c.fleet.applyReport(a, report, u > 0.98 && u <= 0.995 ? now - 3_600_000 : now);
    routeEntries += routes.length;
  };

  for (let s = 0; s < siteCount; s++) {
    const region = regions[s % regions.length];
    const site: Site = { siteId: `site-${s}`, kind: 'embedded', region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };
    regionOfSite.set(site.siteId, region);
    const routes: RouteAttrs[] = [];
    for (let i = 0; i < perSitePrefixes && made < size.prefixes; i++, made++) {
      let prefix = randomPrefix(r);
      while (used.has(prefix)) prefix = randomPrefix(r);
      used.add(prefix);
      routes.push({ prefix, asPathLength: 1 + Math.floor(r() * 3), localPref: r() < 0.2 ? 200 : 100, med: Math.floor(r() * 50) });
      if (r() < 0.05) clients.push(addressIn(prefix, r));
    }
    for (let k = 0; k < perSite && appN < embedded; k++) addAppliance(site, routes);
  }
  for (const region of regions) {
    const site: Site = { siteId: `ix-${region}`, kind: 'ix', region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };
    regionOfSite.set(site.siteId, region);
    for (let k = 0; k < ixPerRegion; k++) addAppliance(site, []);
  }
  // A tenth of the questions come from anywhere (mostly no covering prefix → IX, origin).
  const inside = clients.length;
  for (let i = 0; i < inside / 9; i++) clients.push(`${1 + Math.floor(r() * 222)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
  return { clients, titleIds, regionOfSite, regions, routeEntries };
}
