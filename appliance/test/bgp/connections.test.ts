// Who may connect to a passive speaker: only configured neighbors, one connection at a time
// (Cease / Connection Rejected for a second, RFC 4271 §6.8 with collision detection in Established
// off), and an administrative stop says Cease / Administrative Shutdown.

import { afterEach, describe, expect, it } from 'vitest';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { rawOpen, RawPeer } from './helpers/raw-peer.ts';
import { loopbackPair, waitFor } from './helpers/routers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const [peerAddr, ourAddr] = loopbackPair();
  const speaker = new BgpSpeaker(BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.8', listenAddress: ourAddr, listenPort: 0,
    neighbors: [{ address: peerAddr, peerAsn: 65001, passive: true }],
  }));
  await speaker.start();
  cleanups.push(() => speaker.stop());
  return { speaker, peerAddr, ourAddr, port: speaker.listenPort! };
}

describe('connections', () => {
  it('drops a connection from an address that is not a neighbor', async () => {
    const { ourAddr, port, peerAddr } = await setup();
    const stranger = peerAddr.replace(/\.1$/, '.3');
    const p = await RawPeer.connect(ourAddr, port, stranger);
    cleanups.push(() => p.close());
    p.send(rawOpen({ asn: 65001 }));
    await p.waitClosed();
    expect(p.replies).toEqual([]);
  });

  it('refuses a second connection while one is up, and says Administrative Shutdown on stop', async () => {
    const { speaker, ourAddr, port, peerAddr } = await setup();
    const first = await RawPeer.connect(ourAddr, port, peerAddr);
    cleanups.push(() => first.close());
    await first.establish(rawOpen({ asn: 65001 }));
    await waitFor('established', () => speaker.status()[0].state === 'Established');
    const second = await RawPeer.connect(ourAddr, port, peerAddr);
    cleanups.push(() => second.close());
    expect(await second.notification()).toEqual({ code: 6, subcode: 5 });
    expect(speaker.status()[0].state).toBe('Established');
    await speaker.stop();
    expect(await first.notification()).toEqual({ code: 6, subcode: 2 });
    expect(speaker.status()[0].state).toBe('Idle');
  });
});
