// Hold-time negotiation and the timers it arms, on a clock the test drives (the socket is real):
// hold = min(ours, theirs), keepalive = hold / 3, none at all for a hold time of 0, and an
// expired hold timer sends Hold Timer Expired.

import { afterEach, describe, expect, it } from 'vitest';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import type { Timers } from '../../src/bgp/timers.ts';
import { rawOpen, RawPeer } from './helpers/raw-peer.ts';
import { loopbackPair, waitFor } from './helpers/routers.ts';

class ManualClock implements Timers {
  t = 0;
  pending = new Map<number, { at: number; ms: number; fn: () => void }>();
  #id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.pending.set(id, { at: this.t + ms, ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void { this.pending.delete(h as number); }
  now(): number { return this.t; }
  durations(): number[] { return [...this.pending.values()].map((p) => p.ms).sort((a, b) => a - b); }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, p] of [...this.pending]) {
      if (p.at <= this.t && this.pending.has(id)) { this.pending.delete(id); p.fn(); }
    }
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(ourHold: number, theirHold: number) {
  const [peerAddr, ourAddr] = loopbackPair();
  const clock = new ManualClock();
  const speaker = new BgpSpeaker(BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.7', listenAddress: ourAddr, listenPort: 0,
    neighbors: [{ address: peerAddr, peerAsn: 65001, passive: true, holdTime: ourHold }],
  }), { timers: clock });
  await speaker.start();
  cleanups.push(() => speaker.stop());
  const peer = await RawPeer.connect(ourAddr, speaker.listenPort!, peerAddr);
  cleanups.push(() => peer.close());
  await peer.establish(rawOpen({ asn: 65001, hold: theirHold }));
  await waitFor('established', () => speaker.status()[0].state === 'Established');
  return { clock, speaker, peer };
}

describe('hold time', () => {
  it('takes the smaller hold time and keeps alive at a third of it', async () => {
    const { clock, speaker } = await setup(30, 10);
    expect(speaker.sessions[0].negotiated?.holdTime).toBe(10);
    expect(clock.durations()).toEqual([3000, 10000]);
  });

  it('runs no hold or keepalive timer when either side says 0', async () => {
    const { clock, speaker } = await setup(90, 0);
    expect(speaker.sessions[0].negotiated?.holdTime).toBe(0);
    expect(clock.durations()).toEqual([]);
  });

  it('sends KEEPALIVEs, and Hold Timer Expired when the peer goes quiet', async () => {
    const { clock, peer, speaker } = await setup(9, 90);
    const keepalives = () => peer.replies.filter((r) => r.type === 4).length;
    const k0 = keepalives();
    clock.advance(3000);
    await waitFor('keepalive', () => keepalives() > k0);
    clock.advance(6000);
    expect(await peer.notification()).toEqual({ code: 4, subcode: 0 });
    expect(speaker.status()[0].state).toBe('Active');
  });
});
