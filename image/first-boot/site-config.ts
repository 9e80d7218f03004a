// The site config: what an ISP tells a new box, once, at the console or in edgebox.json on the
// EFI partition (unattended installs). Kept on the data partition (/data/edgebox/site.json), so it
// survives updates; every boot renders the network, NTP and daemon config from it.

import { z } from 'zod';
import { parseAddress, type Address } from '../../protocol/index.ts';

/** "192.0.2.10/24" or "2001:db8::10/64": an interface address with its prefix length. */
export function parseInterfaceAddress(s: string, family: 4 | 6): { address: Address; length: number } | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const address = parseAddress(m[1]);
  const length = Number(m[2]);
  if (!address || address.family !== family || length > (family === 4 ? 32 : 128) || length < 1) return null;
  return { address, length };
}

const cidr = (family: 4 | 6) => z.string().refine((s) => parseInterfaceAddress(s, family) !== null,
  family === 4 ? 'must be an IPv4 address with its prefix length, e.g. 192.0.2.10/24' : 'must be an IPv6 address with its prefix length, e.g. 2001:db8::10/64');
const ip = (family: 4 | 6) => z.string().refine((s) => parseAddress(s)?.family === family, `must be an IPv${family} address`);
const anyIp = z.string().refine((s) => parseAddress(s) !== null, 'must be an IPv4 or IPv6 address');
const asn = z.number().int().min(1).max(4294967295);

export const BgpConfig = z.union([
  z.object({
    /** the ISP takes responsibility: the box serves without a BGP session (the turn-up check is waived) */
    waive: z.literal(true),
  }).strict(),
  z.object({
    localAsn: asn,
    peerAsn: asn,
    /** the router's address; the box connects to it (passive: the router connects to the box) */
    neighbor: anyIp,
    passive: z.boolean().default(false),
  }).strict(),
]);
export type BgpConfig = z.infer<typeof BgpConfig>;

export const SiteConfig = z.object({
  /** this box's name, shown to the CDN operator and used as its hostname */
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a hostname label: lower-case letters, digits and dashes').default('edgebox'),
  /** the serving interface: a kernel name (eno1), a MAC address, or "auto" (the first Ethernet port with a link) */
  interface: z.string().regex(/^(auto|[a-zA-Z0-9._-]{1,15}|([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})$/, 'must be "auto", an interface name or a MAC address').default('auto'),
  ipv4: z.object({ address: cidr(4), gateway: ip(4) }).strict(),
  /** null: no IPv6 (strongly discouraged: viewers on IPv6 are then served from elsewhere) */
  ipv6: z.object({ address: cidr(6), gateway: ip(6) }).strict().nullable().default(null),
  dns: z.array(anyIp).max(4).default([]),
  ntp: z.array(z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or address')).max(8)
    .default(['0.debian.pool.ntp.org', '1.debian.pool.ntp.org', '2.debian.pool.ntp.org']),
  bgp: BgpConfig,
  controlUrl: z.url({ protocol: /^https?$/ }).refine((u) => new URL(u).pathname === '/' || new URL(u).pathname === '', 'must be scheme://host[:port] with no path'),
  /** the one-time token the CDN operator issued for this site */
  enrollmentToken: z.string().min(16, 'must be at least 16 characters').max(200),
  siteId: z.string().min(1).max(64).optional(),
  /** where viewers reach this box; default http://<ipv4 address> */
  publicUrl: z.url().optional(),
  /** URL-token keys from the CDN operator: key id → secret */
  tokenKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'key id must be 1-32 of [A-Za-z0-9_-]'), z.string().min(16, 'secret must be at least 16 characters'))
    .refine((k) => Object.keys(k).length > 0, 'at least one key is needed (the box refuses every request without one)'),
  update: z.object({
    /** how often to ask control for the site's target version */
    pollIntervalSec: z.number().int().min(5).max(86_400).default(900),
    /** a new slot must report healthy within this long, or the box goes back to the old one */
    healthDeadlineSec: z.number().int().min(30).max(7_200).default(900),
    /** ...but a daemon that answers "failing" this long without a break ends the trial sooner */
    failingGraceSec: z.number().int().min(10).max(7_200).default(180),
  }).strict().prefault({}),
}).strict();
export type SiteConfig = z.infer<typeof SiteConfig>;

export type ConfigCheck = { ok: true; config: SiteConfig } | { ok: false; errors: string[] };

/** Validate a parsed edgebox.json; every problem is listed with the setting it is about. */
export function checkSiteConfig(json: unknown): ConfigCheck {
  const r = SiteConfig.safeParse(json);
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`) };
}

export function publicUrlOf(c: SiteConfig): string {
  return c.publicUrl ?? `http://${c.ipv4.address.split('/')[0]}`;
}
