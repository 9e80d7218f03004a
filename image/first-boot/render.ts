// What each boot derives from the site config: the systemd-networkd file, resolv.conf, chrony's
// sources and the appliance daemon's JSON config. Pure functions; setup-main.ts writes them.

import { ADMIN_LISTEN, PATHS } from './paths.ts';
import { publicUrlOf, type SiteConfig } from './site-config.ts';

export function networkFile(c: SiteConfig, iface: string): string {
  const match = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(iface) ? `MACAddress=${iface.toLowerCase()}` : `Name=${iface}`;
  const lines = ['# Edgebox: rendered at boot from /data/edgebox/site.json', '[Match]', match, '', '[Link]', 'RequiredForOnline=yes', '',
    '[Network]', `Address=${c.ipv4.address}`, `Gateway=${c.ipv4.gateway}`];
  if (c.ipv6) lines.push(`Address=${c.ipv6.address}`, `Gateway=${c.ipv6.gateway}`);
  for (const d of c.dns) lines.push(`DNS=${d}`);
  lines.push('IPv6AcceptRA=no', 'LinkLocalAddressing=ipv6', 'LLDP=yes', 'EmitLLDP=nearest-bridge', '');
  return lines.join('\n');
}

export function resolvConf(c: SiteConfig): string {
  return ['# Edgebox: rendered at boot from the site config', ...c.dns.map((d) => `nameserver ${d}`), 'options timeout:2 attempts:2', ''].join('\n');
}

export function chronySources(c: SiteConfig): string {
  return [...c.ntp.map((s) => `server ${s} iburst`), ''].join('\n');
}

export interface Secrets { adminToken: string }

export function applianceConfig(c: SiteConfig, secrets: Secrets): Record<string, unknown> {
  const bgp = 'waive' in c.bgp
    ? { neighbors: [] }
    : {
      localAsn: c.bgp.localAsn,
      routerId: c.ipv4.address.split('/')[0],
      neighbors: [{ address: c.bgp.neighbor, peerAsn: c.bgp.peerAsn, passive: c.bgp.passive }],
    };
  return {
    applianceId: c.name,
    listen: c.ipv6 ? '[::]:80' : '0.0.0.0:80',
    adminListen: ADMIN_LISTEN,
    adminToken: secrets.adminToken,
    tokenKeys: c.tokenKeys,
    controlUrl: c.controlUrl,
    bgp,
    report: { enrollmentToken: c.enrollmentToken, name: c.name, publicUrl: publicUrlOf(c), ...(c.siteId ? { siteId: c.siteId } : {}) },
    storage: [{ path: PATHS.store, type: 'auto' }],
    stateDir: PATHS.state,
    // sized from the hardware probe at every start
    workers: 'auto',
    ramTierBytes: 'auto',
    capacityBps: 'auto',
    diskConcurrency: 'auto',
  };
}
