// What a session's manifests are written from: the steering answer at start and one URL token
// scoped to the title's files until expiry (optionally bound to the viewer's network). Stored
// with the session so manifests fetched later (HLS media playlists) match the first answer.

import { formatPrefix, signToken, tokenBaseUrl, prefixMask } from '../../../protocol/index.ts';
import type { Address } from '../../../protocol/index.ts';
import type { CatalogTitle } from '../catalog.ts';
import { compileMaster, sessionMedia } from '../manifest/hls.ts';
import { compileMpd } from '../manifest/dash.ts';
import type { SteerTarget } from '../steering/steer.ts';

export interface Delivery {
  targets: SteerTarget[];
  token: string;
  /** unix seconds */
  exp: number;
}

export interface TokenSigning { kid: string; secret: string; ttlSec: number; bindClient: boolean }

/** /24 for IPv4, /56 for IPv6: a household, not one address (NAT and privacy addresses move). */
export function clientCidr(a: Address): string {
  const length = a.family === 4 ? 24 : 56;
  return formatPrefix({ family: a.family, bits: a.value & prefixMask(a.family, length), length });
}

export function makeDelivery(sid: string, title: CatalogTitle, targets: SteerTarget[], client: Address, nowMs: number, s: TokenSigning): Delivery {
  const exp = Math.floor(nowMs / 1000) + s.ttlSec;
  const token = signToken({
    kid: s.kid, secret: s.secret, exp, files: title.fileIds, sid,
    ...(s.bindClient ? { cidr: clientCidr(client) } : {}),
  });
  return { targets, token, exp };
}

export function baseUrls(d: Delivery): string[] {
  return d.targets.map((t) => tokenBaseUrl(t.origin, d.token));
}

export function sessionPaths(controlUrl: string, sid: string) {
  const root = `${controlUrl.replace(/\/+$/, '')}/v1/playback/${sid}`;
  return {
    mpd: `${root}/manifest.mpd`,
    master: `${root}/master.m3u8`,
    media: (fileId: string, rank: number) => `${root}/hls/${rank}/${fileId}.m3u8`,
    heartbeat: `${root}/heartbeat`,
    licence: `${controlUrl.replace(/\/+$/, '')}/v1/license?session=${sid}`,
  };
}

// Each title's templates made ready once, on first use (a title registered again is a new
// object, and the old one's entry goes with it).
const compiled = new WeakMap<CatalogTitle['manifest']['templates'], { mpd: ReturnType<typeof compileMpd>; master: ReturnType<typeof compileMaster> }>();
function compiledFor(title: CatalogTitle) {
  const templates = title.manifest.templates;
  let c = compiled.get(templates);
  if (!c) compiled.set(templates, (c = { mpd: compileMpd(templates.dash), master: compileMaster(templates.hls.master) }));
  return c;
}

export function dashFor(title: CatalogTitle, d: Delivery, controlUrl: string, sid: string): string {
  return compiledFor(title).mpd(baseUrls(d), sessionPaths(controlUrl, sid).licence);
}

export function hlsMasterFor(title: CatalogTitle, d: Delivery, controlUrl: string, sid: string): string {
  return compiledFor(title).master(d.targets.length, sessionPaths(controlUrl, sid).media);
}

/**
 * A start's MPD and multivariant playlist as JSON string content (manifest/json-string.ts): the
 * same text dashFor and hlsMasterFor give, from the base URLs and paths the start already has.
 */
export function manifestsAsJson(title: CatalogTitle, bases: string[], paths: ReturnType<typeof sessionPaths>): { mpd: string; master: string } {
  const c = compiledFor(title);
  return { mpd: c.mpd(bases, paths.licence, true), master: c.master(bases.length, paths.media, true) };
}

export function hlsMediaFor(title: CatalogTitle, d: Delivery, controlUrl: string, sid: string, fileId: string, rank: number): string | undefined {
  const template = Object.hasOwn(title.manifest.templates.hls.media, fileId) ? title.manifest.templates.hls.media[fileId] : undefined;
  const target = d.targets[rank];
  if (template === undefined || target === undefined) return undefined;
  return sessionMedia(template, tokenBaseUrl(target.origin, d.token), sessionPaths(controlUrl, sid).licence);
}
