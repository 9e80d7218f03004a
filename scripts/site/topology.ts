// What the dev site is made of, in one place: an ISP's embedded site of two appliances behind one
// BGP router, an IX site of one appliance, both in one region, and the prefixes the ISP's router
// advertises to its appliances — a block around loopback, so a browser on this machine is one of
// the ISP's viewers and is steered to the embedded appliances.

import type { SiteSpec } from '../lib/cluster.ts';

export const REGION = 'local';
export const EMBEDDED_SITE = 'isp-1';
export const IX_SITE = 'ix-1';

/** the ISP's router (BIRD, or the site's static announcer) and the appliances' BGP side */
export const BGP = {
  routerAddress: '127.77.0.1',
  routerAsn: 65001,
  routerId: '10.255.0.1',
  applianceAsn: 64512,
  /** covers every loopback viewer (127.0.0.0/8). BIRD refuses to carry 127.0.0.0/8 itself
   *  (host scope: "Ignoring bogus route"), and no IPv6 prefix covering ::1 is routable, so the
   *  router advertises the smallest routable block around it: 126.0.0.0/7 */
  prefixes: ['126.0.0.0/7'],
  holdTimeS: 30,
} as const;

/** the address appliance `index` of the embedded site speaks BGP from */
export function applianceBgpAddress(index: number): string {
  return `127.77.0.${2 + index}`;
}

/** The sites in the cluster launcher's terms; fill windows are control's default (02:00–14:00). */
export function siteSpecs(timeZone: string): SiteSpec[] {
  return [
    { siteId: EMBEDDED_SITE, kind: 'embedded', region: REGION, timeZone, appliances: 2 },
    { siteId: IX_SITE, kind: 'ix', region: REGION, timeZone, appliances: 1 },
  ];
}

/** the cluster launcher's names for the appliances (`<siteId>-<n>`) */
export function applianceNames(timeZone = 'UTC'): string[] {
  return siteSpecs(timeZone).flatMap((s) => Array.from({ length: s.appliances }, (_, i) => `${s.siteId}-${i + 1}`));
}

/** Daemon settings for appliance `index` of the embedded site: its one BGP neighbor, the router. */
export function embeddedBgpSettings(index: number, routerPort: number): Record<string, unknown> {
  return {
    localAsn: BGP.applianceAsn,
    routerId: `10.255.0.${2 + index}`,
    neighbors: [{
      address: BGP.routerAddress,
      port: routerPort,
      localAddress: applianceBgpAddress(index),
      peerAsn: BGP.routerAsn,
      holdTime: BGP.holdTimeS,
      connectRetry: 1,
      // the ISP's one customer block is a /7 (see BGP.prefixes); bogons stay filtered
      import: { ipv4Length: { min: 7, max: 32 } },
    }],
  };
}

/** The machine's IANA time zone (the sites' fill windows are local to it). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
