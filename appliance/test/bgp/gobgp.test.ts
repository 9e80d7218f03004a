// The speaker in passive mode against a real gobgpd that connects to it: announce and withdraw
// through the gobgp CLI (IPv4 and IPv6, MED, communities, large communities, AS path), End-of-RIB
// with graceful restart configured, and a flap when gobgpd is killed and started again.

import { afterEach, describe, expect, it } from 'vitest';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { loopbackPair, startGobgp, waitFor, type Gobgp } from './helpers/routers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function gobgpConfig(o: { gobgpAddr: string; ourAddr: string; ourPort: number }): string {
  const fam = (name: string) => `
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${name}"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true`;
  return `
[global.config]
  as = 4200000002
  router-id = "10.255.0.3"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${o.ourAddr}"
    peer-as = 64512
  [neighbors.transport.config]
    remote-port = ${o.ourPort}
    local-address = "${o.gobgpAddr}"
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 5
  [neighbors.timers.config]
    hold-time = 9
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
${fam('ipv4-unicast')}
${fam('ipv6-unicast')}
`;
}

async function setup() {
  const [gobgpAddr, ourAddr] = loopbackPair();
  const settings = BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.4', listenAddress: ourAddr, listenPort: 0,
    neighbors: [{ address: gobgpAddr, peerAsn: 4200000002, passive: true, holdTime: 9, connectRetry: 1 }],
  });
  const speaker = new BgpSpeaker(settings);
  cleanups.push(() => speaker.stop());
  await speaker.start();
  const config = gobgpConfig({ gobgpAddr, ourAddr, ourPort: speaker.listenPort! });
  const router: { g: Gobgp } = { g: await startGobgp(config) };
  cleanups.push(() => router.g.stop());
  const prefixes = () => speaker.rib.snapshot().routes.map((r) => r.prefix);
  return { speaker, router, config, gobgpAddr, prefixes };
}

describe('BGP against GoBGP (passive, 4-octet peer AS)', () => {
  it('learns, updates and withdraws routes added with the gobgp CLI', async () => {
    const { speaker, router, gobgpAddr, prefixes } = await setup();
    await waitFor('established', () => speaker.status()[0].state === 'Established');
    // gobgpd sends End-of-RIB for both families once graceful restart is configured.
    await waitFor('end-of-rib', () => speaker.stats.endOfRib >= 2);
    const g = router.g.gobgp;
    await g(['global', 'rib', '-a', 'ipv4', 'add', '81.3.0.0/24', 'nexthop', gobgpAddr, 'med', '10', 'community', '65002:7', 'aspath', '65020,65021']);
    await g(['global', 'rib', '-a', 'ipv6', 'add', '2a00:3::/32', 'nexthop', '2001:db8::5', 'large-community', '65002:1:1']);
    await g(['global', 'rib', '-a', 'ipv4', 'add', '192.168.7.0/24', 'nexthop', gobgpAddr]); // bogon: rejected
    await waitFor('routes', () => prefixes().length === 2);
    const byPrefix = new Map(speaker.rib.snapshot().routes.map((r) => [r.prefix, r]));
    expect(byPrefix.get('81.3.0.0/24')).toMatchObject({
      asPath: [4200000002, 65020, 65021], asPathLength: 3, med: 10, communities: ['65002:7'], origin: 'incomplete',
    });
    expect(byPrefix.get('2a00:3::/32')).toMatchObject({ asPath: [4200000002], largeCommunities: ['65002:1:1'] });
    // An implicit withdraw: same prefix, new attributes.
    await g(['global', 'rib', '-a', 'ipv4', 'add', '81.3.0.0/24', 'nexthop', gobgpAddr, 'med', '20']);
    await waitFor('replaced', () => speaker.rib.snapshot().routes.find((r) => r.prefix === '81.3.0.0/24')?.med === 20);
    await g(['global', 'rib', '-a', 'ipv4', 'del', '81.3.0.0/24']);
    await g(['global', 'rib', '-a', 'ipv6', 'del', '2a00:3::/32']);
    await waitFor('withdrawn', () => prefixes().length === 0);
  });

  it('keeps routes through a gobgpd restart and accepts the new connection', async () => {
    const { speaker, router, config, gobgpAddr, prefixes } = await setup();
    await waitFor('established', () => speaker.status()[0].state === 'Established');
    await router.g.gobgp(['global', 'rib', '-a', 'ipv4', 'add', '81.4.0.0/24', 'nexthop', gobgpAddr]);
    await router.g.gobgp(['global', 'rib', '-a', 'ipv4', 'add', '81.5.0.0/24', 'nexthop', gobgpAddr]);
    await waitFor('routes', () => prefixes().length === 2);
    await router.g.stop();
    await waitFor('down', () => speaker.status()[0].state !== 'Established');
    expect(prefixes().length).toBe(2); // stale, still reported
    router.g = await startGobgp(config);
    await waitFor('re-established', () => speaker.status()[0].state === 'Established');
    await router.g.gobgp(['global', 'rib', '-a', 'ipv4', 'add', '81.4.0.0/24', 'nexthop', gobgpAddr]);
    // The new gobgpd no longer has 81.5.0.0/24: its End-of-RIB sweeps it.
    await waitFor('stale swept', () => prefixes().length === 1 && prefixes()[0] === '81.4.0.0/24');
  });
});
