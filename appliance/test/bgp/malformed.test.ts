// Every class of malformed message gets the NOTIFICATION RFC 4271 / 4760 / 7606 prescribes and a
// session reset; the RFC 7606 treat-as-withdraw and attribute-discard cases keep the session up.
// A scripted peer speaks to the real speaker over TCP.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { KEEPALIVE, msg, rawOpen, RawPeer } from './helpers/raw-peer.ts';
import { loopbackPair, waitFor } from './helpers/routers.ts';

const [peerAddr, ourAddr] = loopbackPair();
let speaker: BgpSpeaker;
let port: number;

beforeAll(async () => {
  speaker = new BgpSpeaker(BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.5', listenAddress: ourAddr, listenPort: 0,
    neighbors: [{ address: peerAddr, peerAsn: 65001, passive: true, holdTime: 30, staleTime: 0 }],
  }));
  await speaker.start();
  port = speaker.listenPort!;
});
afterAll(() => speaker.stop());

const attr = (flags: number, type: number, v: number[]) =>
  flags & 0x10 ? [flags, type, v.length >> 8, v.length & 0xff, ...v] : [flags, type, v.length, ...v];
const ORIGIN = attr(0x40, 1, [0]);
const AS_PATH4 = attr(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe9]);
const NEXT_HOP = attr(0x40, 3, [192, 0, 2, 1]);
const NLRI = [24, 81, 0, 0];

function update(withdrawn: number[], attrs: number[], nlri: number[]): Buffer {
  return msg(2, Buffer.from([withdrawn.length >> 8, withdrawn.length & 0xff, ...withdrawn, attrs.length >> 8, attrs.length & 0xff, ...attrs, ...nlri]));
}

async function connect(): Promise<RawPeer> {
  await waitFor('speaker ready', () => speaker.status()[0].state === 'Active');
  return RawPeer.connect(ourAddr, port, peerAddr);
}

async function established(open = rawOpen({ asn: 65001 })): Promise<RawPeer> {
  const p = await connect();
  await p.establish(open);
  await waitFor('established', () => speaker.status()[0].state === 'Established');
  return p;
}

const header = (f: (b: Buffer) => void) => { const b = Buffer.from(KEEPALIVE); f(b); return b; };

const sessionErrors: [string, 'open' | 'established', () => Buffer, number, number][] = [
  ['marker not all ones', 'established', () => header((b) => { b[3] = 0; }), 1, 1],
  ['length below 19', 'established', () => header((b) => b.writeUInt16BE(18, 16)), 1, 2],
  ['length above 4096', 'established', () => header((b) => b.writeUInt16BE(5000, 16)), 1, 2],
  ['unknown message type', 'established', () => header((b) => { b[18] = 9; }), 1, 3],
  ['KEEPALIVE with a body', 'established', () => msg(4, Buffer.from([0])), 1, 2],
  ['ROUTE-REFRESH of the wrong length', 'established', () => msg(5, Buffer.from([0, 1, 0, 1, 0])), 1, 2],
  ['withdrawn length overruns', 'established', () => msg(2, Buffer.from([0, 50, 0, 0])), 3, 1],
  ['attribute length overruns', 'established', () => msg(2, Buffer.from([0, 0, 0, 60, 0x40, 1, 1, 0])), 3, 1],
  ['NLRI prefix longer than 32', 'established', () => update([], [...ORIGIN, ...AS_PATH4, ...NEXT_HOP], [33, 1, 2, 3, 4, 5]), 3, 10],
  ['NLRI overruns the message', 'established', () => update([], [...ORIGIN, ...AS_PATH4, ...NEXT_HOP], [24, 81]), 3, 10],
  ['withdrawn prefix malformed', 'established', () => update([40, 1, 2, 3, 4, 5], [], []), 3, 10],
  ['unrecognized well-known attribute', 'established', () => update([], [...ORIGIN, ...AS_PATH4, ...NEXT_HOP, ...attr(0x40, 99, [1])], NLRI), 3, 2],
  ['MP_REACH_NLRI twice', 'established', () => {
    const mp = attr(0x90, 14, [0, 2, 1, 16, ...Array(16).fill(0x20), 0, 32, 0x2a, 0, 0, 9]);
    return update([], [...ORIGIN, ...AS_PATH4, ...mp, ...mp], []);
  }, 3, 1],
  ['MP_REACH_NLRI with a bad next-hop length', 'established', () => update([], [...ORIGIN, ...AS_PATH4, ...attr(0x80, 14, [0, 2, 1, 5, 1, 2, 3, 4, 5, 0])], []), 3, 9],
  ['MP_REACH_NLRI with well-known flags', 'established', () => update([], [...ORIGIN, ...AS_PATH4, ...attr(0x40, 14, [0, 2, 1, 16, ...Array(16).fill(0x20), 0])], []), 3, 4],
  ['MP_UNREACH_NLRI with a bad prefix', 'established', () => update([], attr(0x80, 15, [0, 2, 1, 200, 1]), []), 3, 9],
  ['OPEN while Established', 'established', () => rawOpen({ asn: 65001 }), 5, 3],
  ['UPDATE before OPEN', 'open', () => update([], [], []), 5, 1],
  ['OPEN with version 3', 'open', () => rawOpen({ asn: 65001, version: 3 }), 2, 1],
  ['OPEN from the wrong AS', 'open', () => rawOpen({ asn: 65002 }), 2, 2],
  ['OPEN with hold time 2', 'open', () => rawOpen({ asn: 65001, hold: 2 }), 2, 6],
  ['OPEN with BGP identifier 0', 'open', () => rawOpen({ asn: 65001, routerId: '0.0.0.0' }), 2, 3],
  ['OPEN with an unknown optional parameter', 'open', () => {
    const o = rawOpen({ asn: 65001 });
    o[29] = 1; // parameter type 1 (authentication, deprecated)
    return o;
  }, 2, 4],
  ['OPEN whose parameter length disagrees', 'open', () => {
    const o = rawOpen({ asn: 65001 });
    o[28] += 1;
    return Buffer.concat([o.subarray(0, 16), Buffer.from([0, o.length + 1]), o.subarray(18), Buffer.from([0])]);
  }, 2, 0],
];

describe('malformed messages: NOTIFICATION and reset', () => {
  it.each(sessionErrors)('%s → NOTIFICATION', async (_name, when, make, code, subcode) => {
    const p = when === 'open' ? await connect() : await established();
    p.send(make());
    expect(await p.notification()).toEqual({ code, subcode });
    await p.waitClosed();
    await waitFor('reset', () => speaker.status()[0].state === 'Active');
  });
});

describe('RFC 7606: treat-as-withdraw and attribute discard keep the session up', () => {
  const cases: [string, number[], boolean][] = [
    ['ORIGIN value 5', [...attr(0x40, 1, [5]), ...AS_PATH4, ...NEXT_HOP], false],
    ['AS_PATH segment type 9', [...ORIGIN, ...attr(0x40, 2, [9, 1, 0, 0, 0xfd, 0xe9]), ...NEXT_HOP], false],
    ['COMMUNITIES length 3', [...ORIGIN, ...AS_PATH4, ...NEXT_HOP, ...attr(0xc0, 8, [1, 2, 3])], false],
    ['MED length 2', [...ORIGIN, ...AS_PATH4, ...NEXT_HOP, ...attr(0x80, 4, [1, 2])], false],
    ['NEXT_HOP 0.0.0.0', [...ORIGIN, ...AS_PATH4, ...attr(0x40, 3, [0, 0, 0, 0])], false],
    ['missing NEXT_HOP', [...ORIGIN, ...AS_PATH4], false],
    ['ORIGIN with optional flags', [...attr(0xc0, 1, [0]), ...AS_PATH4, ...NEXT_HOP], false],
    ['last attribute overruns the attribute list', [...ORIGIN, ...AS_PATH4, ...NEXT_HOP, 0xc0, 8, 200, 1, 2, 3, 4], false],
    ['malformed AGGREGATOR is discarded', [...ORIGIN, ...AS_PATH4, ...NEXT_HOP, ...attr(0xc0, 7, [1, 2, 3])], true],
    ['duplicate ORIGIN keeps the first', [...ORIGIN, ...attr(0x40, 1, [2]), ...AS_PATH4, ...NEXT_HOP], true],
  ];
  it.each(cases)('%s', async (_name, attrs, kept) => {
    const p = await established();
    p.send(update([], [...ORIGIN, ...AS_PATH4, ...NEXT_HOP], NLRI));
    await waitFor('announced', () => speaker.rib.has(peerAddr, '81.0.0.0/24'));
    const before = speaker.stats.updates;
    p.send(update([], attrs, NLRI));
    await waitFor('processed', () => speaker.stats.updates > before);
    expect(speaker.rib.has(peerAddr, '81.0.0.0/24')).toBe(kept);
    expect(speaker.status()[0].state).toBe('Established');
    p.send(KEEPALIVE);
    p.close();
    await waitFor('reset', () => speaker.status()[0].state === 'Active');
  });

  it('2-octet peer: AS_TRANS in AS_PATH merged with AS4_PATH; extended-length attributes, MP first', async () => {
    const p = await established(rawOpen({ asn: 65001, as4: false }));
    const asPath2 = attr(0x40, 2, [2, 3, 0xfd, 0xe9, 0x5b, 0xa0, 0x5b, 0xa0]); // 65001 23456 23456
    const as4Path = attr(0xc0, 17, [2, 2, 0xfa, 0x56, 0xea, 0x02, 0xfa, 0x56, 0xea, 0x03]); // 4200000002 4200000003
    const mp = attr(0x90, 14, [0, 2, 1, 16, 0x2a, 0, 0xff, 0xff, ...Array(12).fill(0), 1, 0, 32, 0x2a, 0, 0, 7]);
    p.send(update([], [...mp, ...attr(0x50, 1, [1]), ...asPath2, ...as4Path, ...attr(0xd0, 32, [0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2])], []));
    await waitFor('v6 route', () => speaker.rib.has(peerAddr, '2a00:7::/32'));
    const r = speaker.rib.snapshot().routes.find((x) => x.prefix === '2a00:7::/32')!;
    expect(r).toMatchObject({ asPath: [65001, 4200000002, 4200000003], asPathLength: 3, origin: 'egp', largeCommunities: ['65001:1:2'] });
    p.close();
    await waitFor('reset', () => speaker.status()[0].state === 'Active');
  });
});
