// A synthetic fleet for the steering bench, deterministic from a seed: embedded sites of four
// appliances that all report the site's prefixes (as Open Connect asks of an ISP), one IX site
// per region, IPv4 and IPv6 prefixes of mixed lengths, a catalogue of titles of which each
// appliance holds a random share, and a few unhealthy boxes.
//
// Each site's reports are made up and then applied at once, as they would arrive, and only the
// applying is timed (`applyMs`), so the bench times the route table's build apart from making up
// the data without holding every report in memory at once. Prefix strings are written without
// BigInt but draw the same random numbers, in the same order, as the first version of this file
// did, so the world (and so the figures) stay comparable across versions.

import type { ApplianceReport, RouteAttrs, TitleRecord } from '../../protocol/index.ts';
import type { Control } from '../../control/src/control.ts';
import type { Site } from '../../control/src/store/repository.ts';
import { formatV6Groups, seededRandom as rng } from '../../protocol/index.ts';

export interface WorldSize { prefixes: number; appliances: number; titles: number; regions: number; seed: number }


export interface World {
  /** every distinct prefix, in the order made */
  prefixes: string[];
  /** client addresses to ask about: inside reported prefixes, plus some anywhere */
  clients: string[];
  titleIds: string[];
  regions: string[];
  routeEntries: number;
  /** time spent in control applying the reports (Fleet.add + applyReport), ms */
  applyMs: number;
}

const maskOf = (length: number) => (length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0);

export function randomPrefix(r: () => number): string {
  if (r() < 0.7) {
    const length = 16 + Math.floor(r() * 9); // /16../24
    const v = (Math.floor(r() * 2 ** 32) & maskOf(length)) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${length}`;
  }
  const length = 32 + Math.floor(r() * 17); // /32../48 inside 2000::/3
  const w = [0, 0, 0, 0].map(() => Math.floor(r() * 2 ** 32));
  const w0 = ((w[0] & 0x1fffffff) | 0x20000000) >>> 0;
  const w1 = (w[1] & maskOf(length - 32)) >>> 0;
  return `${formatV6Groups([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, 0, 0, 0, 0])}/${length}`;
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

// Manifest templates of a realistic size (two video rungs, one audio, ClearKey), so a playback
// start writes a real-sized MPD and HLS playlist.
const dashTemplate = (titleId: string) => `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT1H0M0S" minBufferTime="PT2S">
  {{BASE_URLS}}
  <Period id="0">
    <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true" subsegmentAlignment="true" subsegmentStartsWithSAP="1">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>
      <ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"><dashif:Laurl xmlns:dashif="https://dashif.org/CPS">{{LICENSE_URL}}</dashif:Laurl></ContentProtection>
      <Representation id="v1" bandwidth="4500000" codecs="avc1.640028" width="1920" height="1080" frameRate="25"><BaseURL>${titleId}.v1</BaseURL><SegmentBase indexRange="900-4899"><Initialization range="0-899"/></SegmentBase></Representation>
      <Representation id="v2" bandwidth="1800000" codecs="avc1.64001f" width="1280" height="720" frameRate="25"><BaseURL>${titleId}.v2</BaseURL><SegmentBase indexRange="880-4879"><Initialization range="0-879"/></SegmentBase></Representation>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en" segmentAlignment="true" subsegmentAlignment="true">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>
      <Representation id="a1" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000"><BaseURL>${titleId}.a1</BaseURL><SegmentBase indexRange="800-2799"><Initialization range="0-799"/></SegmentBase></Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

export function titleRecordFor(titleId: string): TitleRecord {
  const kid = (n: number) => Buffer.from(`${titleId}:${n}`.padEnd(16, '.').slice(0, 16)).toString('hex');
  const file = (stream: string, n: number) => ({
    fileId: `${titleId}.${stream}`, kind: stream === 'a1' ? 'audio' as const : 'video' as const, mimeType: 'video/mp4', codecs: 'avc1',
    bandwidth: 1e6, bytes: 1e9, sha256: '0'.repeat(64), initRange: { start: 0, end: 9 }, indexRange: { start: 10, end: 99 }, kid: kid(n),
  });
  const master = [
    '#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="{{MEDIA:${titleId}.a1}}"`,
    '#EXT-X-STREAM-INF:BANDWIDTH=4628000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=25,AUDIO="aud"', `{{MEDIA:${titleId}.v1}}`,
    '#EXT-X-STREAM-INF:BANDWIDTH=1928000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25,AUDIO="aud"', `{{MEDIA:${titleId}.v2}}`,
  ].join('\n');
  return {
    title: { titleId, name: titleId, regions: [] },
    manifest: {
      version: 1, titleId, durationMs: 3_600_000, files: [file('v1', 1), file('v2', 1), file('a1', 2)], kids: [kid(1), kid(2)],
      templates: { dash: dashTemplate(titleId), hls: { master, media: {} } },
      createdAt: '2026-01-01T00:00:00Z',
    },
    keys: [{ kid: kid(1), key: '11'.repeat(16), label: 'hd' }, { kid: kid(2), key: '22'.repeat(16), label: 'audio' }],
  };
}

/** Make up the fleet's first reports and apply each site's as soon as it is made. */
export function buildWorld(c: Control, size: WorldSize): World {
  const now = c.now();
  const r = rng(size.seed);
  const regions = Array.from({ length: size.regions }, (_, i) => `r${i}`);
  const titleIds = titleIdsFor(size);
  const perSite = 4;
  const ixPerRegion = Math.max(1, Math.floor(size.appliances * 0.01 / size.regions));
  const embedded = size.appliances - ixPerRegion * size.regions;
  const siteCount = Math.ceil(embedded / perSite);
  const perSitePrefixes = Math.ceil(size.prefixes / siteCount);
  const clients: string[] = [];
  const prefixes: string[] = [];
  let made = 0, routeEntries = 0, appN = 0, applyMs = 0;
  const used = new Set<string>();

  const plan = (site: Site, routes: RouteAttrs[]) => {
    const id = `app-${appN++}`;
    const files: string[] = [];
    for (const t of titleIds) if (r() < 0.6) files.push(`${t}.v1`, `${t}.v2`, `${t}.a1`);
    const u = r();
    const report: ApplianceReport = {
      seq: 1, bootId: 'bench', sentAt: now, softwareVersion: 'bench', draining: u < 0.01,
      health: { status: u > 0.995 ? 'failing' : 'ok', reasons: [] },
      load: { egressBps: (u > 0.95 ? 0.93 : r() * 0.8) * 1e11, capacityBps: 1e11, connections: 1000, cpu: 0.3 },
      tiers: [], bgp: [], inventory: { kind: 'full', hash: id, files }, prefixes: { hash: id, routes },
    };
    const t0 = performance.now();
    const a = c.fleet.add(id, site, id, `http://${id}.example.net`);
    c.fleet.applyReport(a, report, u > 0.98 && u <= 0.995 ? now - 3_600_000 : now);
    applyMs += performance.now() - t0;
    routeEntries += routes.length;
  };

  for (let s = 0; s < siteCount; s++) {
    const region = regions[s % regions.length];
    const site: Site = { siteId: `site-${s}`, kind: 'embedded', region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };
    const routes: RouteAttrs[] = [];
    for (let i = 0; i < perSitePrefixes && made < size.prefixes; i++, made++) {
      let prefix = randomPrefix(r);
      while (used.has(prefix)) prefix = randomPrefix(r);
      used.add(prefix);
      prefixes.push(prefix);
      routes.push({ prefix, asPathLength: 1 + Math.floor(r() * 3), localPref: r() < 0.2 ? 200 : 100, med: Math.floor(r() * 50) });
      if (r() < 0.05) clients.push(addressIn(prefix, r));
    }
    for (let k = 0; k < perSite && appN < embedded; k++) plan(site, routes);
  }
  for (const region of regions) {
    const site: Site = { siteId: `ix-${region}`, kind: 'ix', region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };
    for (let k = 0; k < ixPerRegion; k++) plan(site, []);
  }
  // A tenth of the questions come from anywhere (mostly no covering prefix → IX, origin).
  const inside = clients.length;
  for (let i = 0; i < inside / 9; i++) clients.push(`${1 + Math.floor(r() * 222)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
  return { prefixes, clients, titleIds, regions, routeEntries, applyMs };
}

/** Register the catalogue (not timed as the route table's build). */
export async function registerTitles(c: Control, titleIds: string[]): Promise<void> {
  for (const t of titleIds) await c.catalog.register(titleRecordFor(t), c.now());
}

export function titleIdsFor(size: WorldSize): string[] {
  return Array.from({ length: size.titles }, (_, i) => `title-${i}`);
}
