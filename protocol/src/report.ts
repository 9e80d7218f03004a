// The appliance → control health report (POST /v1/appliances/:id/report), sent every
// `reportIntervalMs`. Inventory and prefixes are large, so each carries a hash; the appliance
// sends the full set when control asks for it (or on the first report) and otherwise a delta,
// or nothing but the hash when unchanged.

import { z } from 'zod';
import { FILE_ID_RE } from './file-id.ts';
import { FillReport } from './fill-manifest.ts';
import { TokenKeySet } from './appliance-secrets.ts';
import { ReportedTls, TlsCertificateOffer } from './tls.ts';

export const HealthStatus = z.enum(['ok', 'degraded', 'failing']);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const Tier = z.enum(['ram', 'ssd', 'hdd']);
export type Tier = z.infer<typeof Tier>;

const fileId = z.string().regex(FILE_ID_RE);

export const RouteAttrs = z.object({
  /** prefix in CIDR form, host bits zero, e.g. "203.0.113.0/24" or "2001:db8::/32" */
  prefix: z.string().max(50),
  asPathLength: z.number().int().min(0),
  /** ASNs on the path, leftmost first */
  asPath: z.array(z.number().int().min(0)).optional(),
  med: z.number().int().min(0).optional(),
  localPref: z.number().int().min(0).optional(),
  origin: z.enum(['igp', 'egp', 'incomplete']).optional(),
  /** "asn:value" */
  communities: z.array(z.string()).optional(),
  /** "global:local1:local2" */
  largeCommunities: z.array(z.string()).optional(),
  /** the BGP peer this route was learned from */
  peer: z.string().optional(),
});
export type RouteAttrs = z.infer<typeof RouteAttrs>;

export const InventoryReport = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('full'), hash: z.string(), files: z.array(fileId) }),
  z.object({
    kind: z.literal('delta'),
    baseHash: z.string(),
    hash: z.string(),
    added: z.array(fileId),
    removed: z.array(fileId),
  }),
]);
export type InventoryReport = z.infer<typeof InventoryReport>;

/** Which route a withdrawal names: a route is one prefix as learned from one peer. */
export const RouteKey = z.object({ prefix: z.string().max(50), peer: z.string().optional() });
export type RouteKey = z.infer<typeof RouteKey>;

/**
 * The changes since the set whose hash control acknowledged (`baseHash`): routes announced (new
 * or with new attributes) and withdrawn, and the hash of the set they lead to (route-hash.ts),
 * which control checks against its own. A control that does not know this form strips it to
 * `{hash}`, sees a hash it does not hold and asks for the full set.
 */
export const PrefixDelta = z.object({
  kind: z.literal('delta'),
  baseHash: z.string(),
  hash: z.string(),
  announced: z.array(RouteAttrs),
  withdrawn: z.array(RouteKey),
});
export type PrefixDelta = z.infer<typeof PrefixDelta>;

/** Routes that share every attribute but the prefix: how a full table is sent compactly. */
export const RouteGroup = z.object({
  attrs: RouteAttrs.omit({ prefix: true }),
  prefixes: z.array(z.string().max(50)),
});
export type RouteGroup = z.infer<typeof RouteGroup>;

export const PrefixFull = z.object({
  hash: z.string(),
  /**
   * The full set, when it changed or control asked for it, as `routes`, `groups` or both (the
   * set is their union); neither means "same as hash". Appliances send groups (a full table has
   * far fewer attribute sets than routes).
   */
  routes: z.array(RouteAttrs).optional(),
  groups: z.array(RouteGroup).optional(),
});

export const PrefixReport = z.union([PrefixDelta, PrefixFull]);
export type PrefixReport = z.infer<typeof PrefixReport>;

export const BgpSessionState = z.object({
  peer: z.string(),
  state: z.enum(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established']),
  since: z.number().int().optional(),
  prefixes: z.number().int().min(0).optional(),
});

export const ApplianceReport = z.object({
  /** strictly increasing per appliance process lifetime; with bootId, rejects replays */
  seq: z.number().int().min(0),
  /** random per daemon start, so a restart (seq back to 0) is not taken for a replay */
  bootId: z.string().min(1).max(64),
  sentAt: z.number().int(),
  softwareVersion: z.string().max(64),
  health: z.object({ status: HealthStatus, reasons: z.array(z.string()) }),
  draining: z.boolean().default(false),
  load: z.object({
    egressBps: z.number().min(0),
    capacityBps: z.number().min(0),
    connections: z.number().int().min(0),
    /** 0..1, all cores */
    cpu: z.number().min(0).max(1),
  }),
  tiers: z.array(z.object({ tier: Tier, usedBytes: z.number().min(0), capacityBytes: z.number().min(0) })),
  inventory: InventoryReport.optional(),
  prefixes: PrefixReport.optional(),
  bgp: z.array(BgpSessionState).default([]),
  /** fill progress (fill-manifest.ts); absent from appliances that do not fill */
  fill: FillReport.optional(),
  /** the version of the URL-token key set the box holds (appliance-secrets.ts); absent = none from control yet */
  tokenKeys: z.string().max(64).optional(),
  /** HTTPS (tls.ts): the box's https:// base URL and the certificate it serves; absent without TLS */
  tls: ReportedTls.optional(),
});
export type ApplianceReport = z.infer<typeof ApplianceReport>;

export const ReportReply = z.object({
  ok: z.boolean(),
  /** the report was a replay or arrived out of order and was dropped (ok is false) */
  ignored: z.boolean().optional(),
  /** control lost track of the inventory hash: send the full set next time */
  needInventory: z.boolean().optional(),
  /** control lost track of the prefix hash: send the full set next time */
  needPrefixes: z.boolean().optional(),
  /** operator drain state: true while an operator drains the box, false once lifted; absent
   *  only in replies to ignored (replayed) reports */
  drain: z.boolean().optional(),
  /** the version of this appliance's current fill manifest: fetch it when it differs from the
   *  one held (fill-manifest.ts); absent when control has no plan for the appliance yet */
  fillManifest: z.string().max(128).optional(),
  /** the URL-token keys to accept from now on, when the report named another version (appliance-secrets.ts) */
  tokenKeys: TokenKeySet.optional(),
  /** an operator rotated the box's credential: use this one from the next call on (the old one
   *  stops working once control has seen this one in use) */
  credential: z.string().min(1).max(512).optional(),
  /** the certificate control holds for the box's TLS hostname (tls.ts); PEMs only when the
   *  report named another one; absent when control holds none for it */
  tlsCertificate: TlsCertificateOffer.optional(),
});
export type ReportReply = z.infer<typeof ReportReply>;
