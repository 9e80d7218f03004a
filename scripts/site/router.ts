// The ISP's router of the embedded site: a local BIRD with one BGP session per appliance,
// advertising the loopback prefixes, or, when BIRD is not installed, the site's static announcer
// (static-announcer.ts) with the same prefixes (EDGEBOX_SITE_ROUTER=static forces it). Started
// before the appliances, stopped after them.

import { findProgram, startBird } from '../lib/bird.ts';
import { startStaticAnnouncer } from './static-announcer.ts';
import { applianceBgpAddress, BGP, EMBEDDED_SITE } from './topology.ts';
import type { SiteState } from './state.ts';

export interface SiteRouter {
  kind: 'bird' | 'static';
  port: number;
  /** one line for the banner */
  describe: string;
  pid?: number;
  stop(): Promise<void>;
}

/** BIRD's config: static routes for the prefixes, exported to each appliance; nothing imported. */
export function birdConfig(port: number, appliances: number): string {
  const v4 = BGP.prefixes.filter((p) => !p.includes(':'));
  const v6 = BGP.prefixes.filter((p) => p.includes(':'));
  const sessions = Array.from({ length: appliances }, (_, i) =>
    `protocol bgp ${EMBEDDED_SITE.replace(/-/g, '_')}_${i + 1} from appliance { neighbor ${applianceBgpAddress(i)} as ${BGP.applianceAsn}; }`);
  return `# written by npm start (scripts/site/router.ts): the embedded site's router
log stderr { info, remote, warning, error, auth, fatal, bug };
router id ${BGP.routerId};
protocol device {}
protocol static viewers4 { ipv4; ${v4.map((p) => `route ${p} blackhole;`).join(' ')} }
${v6.length ? `protocol static viewers6 { ipv6; ${v6.map((p) => `route ${p} blackhole;`).join(' ')} }` : ''}
template bgp appliance {
  local ${BGP.routerAddress} port ${port} as ${BGP.routerAsn};
  passive on; multihop; hold time ${BGP.holdTimeS}; connect retry time 1;
  ipv4 { import none; export where source = RTS_STATIC; };
  ipv6 { import none; export where source = RTS_STATIC; next hop address 2001:db8::1; };
}
${sessions.join('\n')}
`;
}

export async function startRouter(state: SiteState, appliances: number, onOutput?: (s: string) => void): Promise<SiteRouter> {
  const port = await state.port('bgp-router', BGP.routerAddress);
  const where = `${BGP.routerAddress} port ${port}, AS ${BGP.routerAsn}, advertising ${BGP.prefixes.join(' ')}`;
  const useBird = process.env.EDGEBOX_SITE_ROUTER !== 'static' && findProgram('bird') !== null && findProgram('birdc') !== null;
  if (useBird) {
    const bird = await startBird({ dir: state.path('bird'), config: birdConfig(port, appliances), onOutput });
    return {
      kind: 'bird',
      port,
      pid: bird.pid,
      describe: `BIRD ${where} (pid ${bird.pid}; log ${bird.logPath})`,
      stop: () => bird.stop(),
    };
  }
  const neighbors = Array.from({ length: appliances }, (_, i) => applianceBgpAddress(i));
  const announcer = await startStaticAnnouncer({
    address: BGP.routerAddress, port, asn: BGP.routerAsn, routerId: BGP.routerId, holdTimeS: BGP.holdTimeS, neighbors, prefixes: [...BGP.prefixes],
  });
  return {
    kind: 'static',
    port,
    describe: `static announcer (in this process) ${where}`,
    stop: () => announcer.close(),
  };
}
