// BGP settings for the appliance daemon's config (one `bgp` object in its JSON file, or
// EDGEBOX_BGP as JSON in the environment). TCP MD5 signatures (RFC 2385) are not offered: Node's
// socket API cannot set TCP_MD5SIG, so sessions that need it must be protected another way
// (a dedicated interface, an ACL on the router, or a GTSM/TTL check on the router side).

import { z } from 'zod';
import { parseAddress } from '../../../protocol/index.ts';

const address = z.string().refine((s) => parseAddress(s) !== null, 'must be an IPv4 or IPv6 address');
const ipv4 = z.string().refine((s) => parseAddress(s)?.family === 4 && s !== '0.0.0.0', 'must be a non-zero IPv4 address');
const asn = z.number().int().min(1).max(4294967295);

const lengthBounds = (min: number, max: number, width: number) =>
  z.object({ min: z.number().int().min(0).max(width).default(min), max: z.number().int().min(0).max(width).default(max) })
    .refine((b) => b.min <= b.max, 'min must not exceed max')
    .default({ min, max });

export const ImportPolicySettings = z.object({
  /** past this many accepted prefixes the session is closed with Cease / Maximum Number of Prefixes Reached */
  maxPrefixes: z.number().int().min(1).default(1_000_000),
  allowDefault: z.boolean().default(false),
  rejectBogons: z.boolean().default(true),
  ipv4Length: lengthBounds(8, 32, 32),
  ipv6Length: lengthBounds(16, 128, 128),
});
export type ImportPolicySettings = z.infer<typeof ImportPolicySettings>;

export const NeighborSettings = z.object({
  address,
  port: z.number().int().min(1).max(65535).default(179),
  /** source address for active connections */
  localAddress: address.optional(),
  peerAsn: asn,
  /** passive: wait for the router to connect to our listener; active: we connect out */
  passive: z.boolean().default(false),
  /** seconds; 0 disables keepalives, otherwise at least 3 (RFC 4271 §4.2) */
  holdTime: z.number().int().min(0).max(65535).refine((n) => n === 0 || n >= 3, 'must be 0 or at least 3').default(90),
  connectRetry: z.number().int().min(1).max(3600).default(30),
  /** seconds learned prefixes outlive a session drop before they are withdrawn */
  staleTime: z.number().int().min(0).max(86400).default(300),
  families: z.array(z.enum(['ipv4', 'ipv6'])).min(1).default(['ipv4', 'ipv6']),
  import: ImportPolicySettings.default(ImportPolicySettings.parse({})),
});
export type NeighborSettings = z.infer<typeof NeighborSettings>;

export const BgpSettings = z.object({
  localAsn: asn.default(64512),
  /** BGP identifier; required as soon as there is a neighbor */
  routerId: ipv4.optional(),
  /** listener for passive neighbors */
  listenAddress: address.default('0.0.0.0'),
  listenPort: z.number().int().min(0).max(65535).default(179),
  neighbors: z.array(NeighborSettings).default([]),
}).refine((s) => s.neighbors.length === 0 || s.routerId !== undefined, { message: 'routerId is required when neighbors are configured', path: ['routerId'] });
export type BgpSettings = z.infer<typeof BgpSettings>;
