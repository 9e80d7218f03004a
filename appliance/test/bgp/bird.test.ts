// The speaker against a real BIRD 2 on loopback: announce (IPv4 and IPv6 over one IPv4
// session, with MED, communities, large communities, a prepended path), withdraw, session flap
// with stale routes, and hold-timer expiry with BIRD stopped by SIGSTOP.

import { afterEach, describe, expect, it } from 'vitest';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { freePort, loopbackPair, speakerFacing, startBird, waitFor, type Bird } from './helpers/routers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function birdConfig(o: { birdAddr: string; birdPort: number; ourAddr: string; hold: number; extra?: string }): string {
  return `
router id 10.255.0.1;
protocol device {}
protocol static s4 { ipv4; route 81.0.0.0/24 blackhole; route 81.0.1.0/24 blackhole; }
protocol static more4 { ipv4; route 82.2.0.0/16 blackhole; }
protocol static bad4 { ipv4; route 0.0.0.0/0 blackhole; route 10.1.0.0/16 blackhole; route 83.0.0.0/30 blackhole; }
protocol static s6 { ipv6; route 2a00:1::/32 blackhole; route 2a00:2:1::/48 blackhole; }
${o.extra ?? ''}
protocol bgp edge {
  local ${o.birdAddr} port ${o.birdPort} as 65001;
  neighbor ${o.ourAddr} as 64512;
  multihop; passive on; strict bind on; hold time ${o.hold}; connect retry time 1;
  ipv4 { import none; export filter { bgp_med = 50; bgp_path.prepend(65010); bgp_community.add((65001,100)); bgp_large_community.add((65001,1,2)); accept; }; };
  ipv6 { import none; export all; next hop address 2a00:ffff::1; };
}
`;
}

async function setup(opts: { hold?: number; staleTime?: number; maxPrefixes?: number; extra?: string } = {}) {
  const [birdAddr, ourAddr] = loopbackPair();
  const birdPort = await freePort(birdAddr);
  const bird: Bird = await startBird(birdConfig({ birdAddr, birdPort, ourAddr, hold: opts.hold ?? 9, extra: opts.extra }));
  cleanups.push(() => bird.stop());
  const settings = BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.2',
    neighbors: [{
      address: birdAddr, port: birdPort, localAddress: ourAddr, peerAsn: 65001, holdTime: opts.hold ?? 9,
      connectRetry: 1, staleTime: opts.staleTime ?? 300,
      import: { maxPrefixes: opts.maxPrefixes ?? 1_000_000, ipv4Length: { min: 8, max: 24 } },
    }],
  });
  const speaker = new BgpSpeaker(settings);
  cleanups.push(() => speaker.stop());
  await speaker.start();
  const prefixes = () => speaker.rib.snapshot().routes.map((r) => r.prefix);
  return { bird, speaker, birdAddr, prefixes };
}

describe('BGP against BIRD 2', () => {
  it('learns IPv4 and IPv6 routes with attributes and applies import policy', async () => {
    const { speaker, prefixes, birdAddr } = await setup();
    await waitFor('established', () => speaker.status()[0].state === 'Established');
    await waitFor('routes', () => prefixes().length === 5);
    expect(prefixes()).toEqual(['2a00:1::/32', '2a00:2:1::/48', '81.0.0.0/24', '81.0.1.0/24', '82.2.0.0/16']);
    const r = speaker.rib.snapshot().routes.find((x) => x.prefix === '81.0.0.0/24')!;
    expect(r).toMatchObject({
      peer: birdAddr, asPath: [65001, 65010], asPathLength: 2, med: 50, origin: 'igp',
      communities: ['65001:100'], largeCommunities: ['65001:1:2'],
    });
    // default route, RFC 1918 bogon and a /30 beyond the IPv4 bound were all rejected
    expect(speaker.stats.rejected).toBe(3);
    expect(speaker.sessions[0].negotiated).toMatchObject({ holdTime: 9, as4: true, families: ['ipv4', 'ipv6'] });
  });

  it('follows withdraw and re-announce', async () => {
    const { bird, speaker, prefixes } = await setup();
    await waitFor('routes', () => prefixes().length === 5);
    await bird.birdc('disable more4');
    await waitFor('withdraw', () => !prefixes().includes('82.2.0.0/16'));
    await bird.birdc('disable s6');
    await waitFor('withdraw v6', () => prefixes().length === 2);
    await bird.birdc('enable more4');
    await bird.birdc('enable s6');
    await waitFor('re-announce', () => prefixes().length === 5);
    expect(speaker.status()[0].state).toBe('Established');
    // ROUTE-REFRESH: BIRD sends its table again (and End-of-RIB, RFC 7313 style or not).
    const before = speaker.stats.updates;
    expect(speaker.sessions[0].requestRefresh()).toBe(true);
    await waitFor('refreshed', () => speaker.stats.updates >= before + 2);
    expect(prefixes().length).toBe(5);
  });

  it('keeps routes stale across a session flap, then refreshes them', async () => {
    const { bird, speaker, prefixes } = await setup();
    await waitFor('routes', () => prefixes().length === 5);
    const downs: string[] = [];
    speaker.sessions[0].on('down', (reason: string) => downs.push(reason));
    // BIRD's session restarts; while it is down, it also loses one of its routes.
    await bird.birdc('disable edge');
    await waitFor('down', () => downs.length > 0);
    expect(prefixes().length).toBe(5); // kept, stale
    await bird.birdc('disable more4');
    await bird.birdc('enable edge');
    await waitFor('re-established', () => speaker.status()[0].state === 'Established');
    // End-of-RIB sweeps the stale route BIRD no longer has.
    await waitFor('stale swept', () => prefixes().length === 4);
    expect(prefixes()).not.toContain('82.2.0.0/16');
    expect(speaker.stats.endOfRib).toBeGreaterThanOrEqual(2);
  });

  it('expires the hold timer when BIRD stops answering, then withdraws after the stale time', async () => {
    const { bird, speaker, prefixes } = await setup({ hold: 3, staleTime: 2 });
    await waitFor('routes', () => prefixes().length === 5);
    const sent: { code: number; subcode: number }[] = [];
    speaker.sessions[0].on('notification', (n: { dir: string; code: number; subcode: number }) => { if (n.dir === 'sent') sent.push(n); });
    process.kill(bird.proc.pid!, 'SIGSTOP');
    try {
      await waitFor('hold timer expiry', () => sent.length > 0, 15000);
      expect(sent[0]).toMatchObject({ code: 4, subcode: 0 });
      expect(speaker.status()[0].state).not.toBe('Established');
      await waitFor('stale withdrawn', () => prefixes().length === 0, 10000);
    } finally {
      process.kill(bird.proc.pid!, 'SIGCONT');
    }
    await waitFor('re-established', () => speaker.status()[0].state === 'Established', 20000);
    await waitFor('routes back', () => prefixes().length === 5);
  });

  it('merges AS4_PATH from a BIRD speaking 2-octet AS only', async () => {
    const [birdAddr, ourAddr] = loopbackPair();
    const birdPort = await freePort(birdAddr);
    const bird = await startBird(`
router id 10.255.0.1;
protocol device {}
protocol static s4 { ipv4; route 81.30.0.0/16 blackhole; }
protocol bgp edge {
  local ${birdAddr} port ${birdPort} as 65001; neighbor ${ourAddr} as 64512;
  multihop; passive on; strict bind on; enable as4 off;
  ipv4 { import none; export filter { bgp_path.prepend(4200000010); accept; }; };
}`);
    cleanups.push(() => bird.stop());
    const speaker = speakerFacing({ address: birdAddr, port: birdPort, localAddress: ourAddr }, cleanups);
    await speaker.start();
    await waitFor('route', () => speaker.rib.snapshot().routes.length === 1);
    expect(speaker.sessions[0].negotiated?.as4).toBe(false);
    expect(speaker.rib.snapshot().routes[0]).toMatchObject({ prefix: '81.30.0.0/16', asPath: [65001, 4200000010], asPathLength: 2 });
  });

  it('runs the session over IPv6 (::1) carrying both families', async () => {
    const birdPort = await freePort('::1');
    const bird = await startBird(`
router id 10.255.0.1;
protocol device {}
protocol static s4 { ipv4; route 81.40.0.0/16 blackhole; }
protocol static s6 { ipv6; route 2a00:40::/32 blackhole; }
protocol bgp edge {
  local ::1 port ${birdPort} as 65001; neighbor ::1 as 64512;
  multihop; passive on; strict bind on;
  ipv4 { import none; export all; next hop address 192.0.2.40; };
  ipv6 { import none; export all; next hop address 2a00:ffff::40; }; # BIRD withdraws rather than send next hop ::1
}`);
    cleanups.push(() => bird.stop());
    const speaker = speakerFacing({ address: '::1', port: birdPort }, cleanups);
    await speaker.start();
    await waitFor('routes', () => speaker.rib.snapshot().routes.length === 2);
    expect(speaker.rib.snapshot().routes.map((r) => r.prefix)).toEqual(['2a00:40::/32', '81.40.0.0/16']);
  });

  it('retries the connection until BIRD comes up, walking the FSM states', async () => {
    const [birdAddr, ourAddr] = loopbackPair();
    const birdPort = await freePort(birdAddr);
    const speaker = speakerFacing({ address: birdAddr, port: birdPort, localAddress: ourAddr }, cleanups);
    const states: string[] = [];
    speaker.sessions[0].on('state', (s: string) => states.push(s));
    await speaker.start();
    await waitFor('a failed attempt', () => states.filter((s) => s === 'Active').length >= 2);
    const bird = await startBird(birdConfig({ birdAddr, birdPort, ourAddr, hold: 9 }));
    cleanups.push(() => bird.stop());
    await waitFor('established', () => speaker.status()[0].state === 'Established');
    expect(states.slice(0, 2)).toEqual(['Connect', 'Active']);
    expect(states.slice(-4)).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    // default policy: IPv4 up to /32, so BIRD's /30 is taken too (the default route and the bogon are not)
    await waitFor('routes', () => speaker.rib.snapshot().routes.length === 6);
  });

  it('closes the session with Cease / max prefixes past the import limit', async () => {
    const { speaker } = await setup({ maxPrefixes: 3 });
    const sent: { dir: string; code: number; subcode: number }[] = [];
    speaker.sessions[0].on('notification', (n) => sent.push(n));
    await waitFor('cease', () => sent.find((n) => n.dir === 'sent'));
    expect(sent.find((n) => n.dir === 'sent')).toMatchObject({ code: 6, subcode: 1 });
  });
});
