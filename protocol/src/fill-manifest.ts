// The fill contract between control and an appliance (DESIGN.md steps 2, 3 and 6).
//
//   GET /v1/appliances/:applianceId/fill-manifest      Authorization: Bearer <credential>
//     → 200 FillManifest   ETag: "<manifest.version>"; If-None-Match with it → 304
//     → 401/403 as for reports
//   Control says which manifest version is current in every ReportReply (`fillManifest`), so an
//   appliance refetches only when its plan, window, rate or an operator's "fill now" changed.
//
//   GET|HEAD /v1/peer/f/:fileId        Authorization: Bearer <peer token> (peer-token.ts)
//     served by every appliance to the appliances of its own site and, for IX appliances, to the
//     embedded sites of their region; never to viewers (their URL tokens are not accepted there,
//     and peer tokens are not accepted on /v1/f or /v1/t). A file the box does not hold is a
//     plain 404: peers never fill through each other.
//
// A file's sources are ranked best first: peers in the same site, then IX appliances of the
// region ("tier"), then the origin (Open Connect's peer fill → tier fill → cache fill). A peer or
// IX source is either an appliance that held the file at its last report or one control plans to
// hold it and expects to have it soon — for each file and site, control designates one planned
// holder as its first fetcher; the site's other holders list it as a peer before it holds the
// file, and its own list starts at the tier or the origin. Such sources are named in the file's
// `notYet`. A 404 from a peer or tier source therefore means "not yet", not "never": the
// appliance fills other files meanwhile and comes back, and moves to the next level only once the
// escalation policy's time for this level has passed since it first tried the file there. A viewer
// miss does not wait: it skips the `notYet` sources and treats a 404 as "try the next one". The
// origin is skipped when `allowOrigin` is false; a 404 from it is final.

import { z } from 'zod';
import { FILE_ID_RE } from './file-id.ts';
import { FileKind, SHA256_HEX_RE } from './content-manifest.ts';

export const FillLevel = z.enum(['peer', 'tier', 'origin']);
export type FillLevel = z.infer<typeof FillLevel>;

/** Local time of day "HH:MM", 00:00–23:59. */
export const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (00:00–23:59)');

export const FillWindow = z.object({
  /** IANA time zone of the site, e.g. "Europe/London" */
  timeZone: z.string().min(1).max(64),
  /** local start, inclusive; a window whose end is at or before its start wraps past midnight */
  start: LocalTime,
  /** local end, exclusive */
  end: LocalTime,
});
export type FillWindow = z.infer<typeof FillWindow>;

export const FillSource = z.object({
  /** the source's id: an applianceId, or "origin" */
  id: z.string().min(1).max(64),
  level: FillLevel,
  /** scheme://host[:port] with no path; see fillSourceUrl */
  baseUrl: z.url().max(300),
});
export type FillSource = z.infer<typeof FillSource>;

export const FillFile = z.object({
  fileId: z.string().regex(FILE_ID_RE),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(SHA256_HEX_RE),
  kind: FileKind,
  /** control's popularity rank within this appliance's region: 0 is the most popular file */
  rank: z.number().int().min(0),
  /** the tier control would like the file on (the hottest files go to SSD) */
  tier: z.enum(['ssd', 'hdd']),
  /** ids into FillManifest.sources, best first */
  sources: z.array(z.string().min(1).max(64)).max(16),
  /**
   * ids among `sources` that did not hold the file when control built the manifest but are planned
   * to (the site's first fetcher, the region's IX appliances): a 404 from them means "not yet".
   * Absent when every source holds it.
   */
  notYet: z.array(z.string().min(1).max(64)).max(16).optional(),
});
export type FillFile = z.infer<typeof FillFile>;

export const EscalationPolicy = z.object({
  /**
   * how long to keep trying peers (all of them, in order) for one file before the tier, counted
   * from the first peer try of the file — across its 404s ("not yet"), while other files fill
   */
  peerMs: z.number().int().min(0),
  /** how long to keep trying IX appliances for one file before the origin, counted the same way */
  tierMs: z.number().int().min(0),
  /** whether the origin may be used at all (control can withhold it, e.g. while it is overloaded) */
  allowOrigin: z.boolean(),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

export const FillManifest = z.object({
  /** opaque; changes whenever anything below changes (it is the ETag) */
  version: z.string().min(1).max(128),
  applianceId: z.string().min(1).max(64),
  siteId: z.string().min(1).max(64),
  region: z.string().min(1).max(64),
  /** epoch ms */
  generatedAt: z.number().int(),
  window: FillWindow,
  /** epoch ms until which the operator forced filling outside the window; null when not forced */
  fillNowUntil: z.number().int().nullable(),
  /** fill download rate for this appliance, bits per second, shared by all downloads; 0 = no limit */
  rateLimitBps: z.number().min(0),
  /** rate at which this appliance serves its peers, bits per second; 0 = no limit */
  peerServeRateBps: z.number().min(0),
  escalation: EscalationPolicy,
  peer: z.object({
    /** present to peers, IX appliances and the origin as `Authorization: Bearer <token>` */
    token: z.string().min(1).max(4096),
    /** Ed25519 public keys (JWK `x`, base64url) by key id, to verify the peer tokens presented to us */
    publicKeys: z.record(z.string(), z.string()),
  }),
  sources: z.array(FillSource),
  /** every file this appliance should hold, most popular first; anything else may be evicted */
  files: z.array(FillFile),
});
export type FillManifest = z.infer<typeof FillManifest>;

/** Why a source was given up on for one file; reported so control stops listing a bad copy. */
export const FillFailure = z.enum(['sha256_mismatch', 'size_mismatch', 'http_error', 'timeout', 'unreachable']);
export type FillFailure = z.infer<typeof FillFailure>;

const levelCounts = z.object({ peer: z.number().min(0), tier: z.number().min(0), origin: z.number().min(0) });

/** The appliance's fill state, sent with every report (ApplianceReport.fill). */
export const FillReport = z.object({
  /** the manifest version being worked on; absent before the first manifest arrived */
  manifestVersion: z.string().max(128).optional(),
  inWindow: z.boolean(),
  /** downloads are running now */
  active: z.boolean(),
  wantedFiles: z.number().int().min(0),
  wantedBytes: z.number().min(0),
  /** bytes of wanted files already held */
  heldBytes: z.number().min(0),
  /** bytes fetched so far by source level (since the daemon started) */
  bytesBySource: levelCounts,
  /** downloads given up on, by source level */
  failuresBySource: levelCounts,
  /** why filling stopped short, when it did */
  blocked: z.enum(['no_space', 'no_sources', 'control_unreachable']).nullable(),
  /** recent sources that failed a file, newest first, at most 50 */
  badSources: z.array(z.object({
    sourceId: z.string().max(64),
    fileId: z.string().regex(FILE_ID_RE),
    reason: FillFailure,
    at: z.number().int(),
  })).max(50),
});
export type FillReport = z.infer<typeof FillReport>;

export const PEER_PATH_PREFIX = '/v1/peer/f/';

export function fillManifestPath(applianceId: string): string {
  return `/v1/appliances/${encodeURIComponent(applianceId)}/fill-manifest`;
}

/**
 * Where to fetch a file from a source: appliances serve peers on the peer path; the origin
 * serves every file on its direct path (it accepts the same peer token as a Bearer credential).
 */
export function fillSourceUrl(source: FillSource, fileId: string): string {
  const base = source.baseUrl.replace(/\/+$/, '');
  return source.level === 'origin' ? `${base}/v1/f/${fileId}` : `${base}${PEER_PATH_PREFIX}${fileId}`;
}
