// The site's stand-in router for machines without BIRD (scripts/site/static-announcer.ts): the
// appliance's own BGP speaker, configured as the site configures it, establishes a session with it
// and learns exactly the site's prefix; a connection from an address that is not a neighbor is
// refused.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BgpSettings } from '../../appliance/src/bgp/settings.ts';
import { BgpSpeaker } from '../../appliance/src/bgp/speaker.ts';
import { freePort } from '../lib/free-port.ts';
import { startStaticAnnouncer } from '../site/static-announcer.ts';
import { applianceBgpAddress, BGP, embeddedBgpSettings } from '../site/topology.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('static announcer (npm start without BIRD)', () => {
  it('an appliance configured as the site configures it learns the site prefix', async () => {
    const port = await freePort(BGP.routerAddress);
    const announcer = await startStaticAnnouncer({
      address: BGP.routerAddress, port, asn: BGP.routerAsn, routerId: BGP.routerId, holdTimeS: BGP.holdTimeS,
      neighbors: [applianceBgpAddress(0)], prefixes: [...BGP.prefixes],
    });
    cleanups.push(() => announcer.close());
    const speaker = new BgpSpeaker(BgpSettings.parse(embeddedBgpSettings(0, port)));
    cleanups.push(() => speaker.stop());
    await speaker.start();

    await until('Established', () => speaker.status()[0].state === 'Established');
    const routes = await until('routes', () => {
      const r = speaker.rib.snapshot().routes;
      return r.length > 0 && r;
    });
    expect(routes.map((r) => r.prefix)).toEqual([...BGP.prefixes]);
    expect(routes[0]).toMatchObject({ asPath: [BGP.routerAsn] });
    expect(speaker.stats.rejected).toBe(0);
    expect(announcer.established()).toEqual([applianceBgpAddress(0)]);
  });

  it('closes a connection from an address that is not a neighbor', async () => {
    const port = await freePort(BGP.routerAddress);
    const announcer = await startStaticAnnouncer({
      address: BGP.routerAddress, port, asn: BGP.routerAsn, routerId: BGP.routerId, holdTimeS: BGP.holdTimeS,
      neighbors: [applianceBgpAddress(0)], prefixes: [...BGP.prefixes],
    });
    cleanups.push(() => announcer.close());
    const sock = net.connect({ host: BGP.routerAddress, port, localAddress: applianceBgpAddress(5) });
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    await new Promise<void>((resolve) => {
      sock.once('close', () => resolve());
      sock.once('error', () => resolve());
    });
    expect(Buffer.concat(got).length).toBe(0);
    expect(announcer.established()).toEqual([]);
  });
});
