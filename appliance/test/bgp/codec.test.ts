// Codec round trips and edge cases that need no socket: OPEN capabilities and AS_TRANS,
// End-of-RIB in both forms, attribute order and extended length, AS4_PATH merge, framing.

import { describe, expect, it } from 'vitest';
import { mergeAs4Path, SEG } from '../../src/bgp/as-path.ts';
import { MessageReader } from '../../src/bgp/message-reader.ts';
import { decodeOpen, encodeOpen } from '../../src/bgp/open-message.ts';
import { rejectReason } from '../../src/bgp/import-policy.ts';
import { ImportPolicySettings } from '../../src/bgp/settings.ts';
import { encodeEndOfRib, encodeUpdate } from '../../src/bgp/update-encoder.ts';
import { decodeUpdate } from '../../src/bgp/update-message.ts';

const ctx = { as4: true, families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[], ibgp: false };
const one = (b: Buffer) => [...new MessageReader().push(b)][0];

describe('OPEN', () => {
  it('puts AS_TRANS in My AS for a 4-octet AS and round-trips the capabilities', () => {
    const raw = encodeOpen({ asn: 4200000001, holdTime: 90, routerId: '10.0.0.1', families: ['ipv4', 'ipv6'], restartTime: 120 });
    const o = decodeOpen(one(raw).body);
    expect(o).toMatchObject({
      version: 4, myAs: 23456, asn: 4200000001, as4: true, holdTime: 90, routerId: '10.0.0.1',
      families: ['ipv4', 'ipv6'], routeRefresh: true, gracefulRestart: { restartTime: 120, families: ['ipv4', 'ipv6'] },
    });
  });
  it('implies IPv4 unicast when no multiprotocol capability is sent', () => {
    const body = Buffer.from([4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 0]);
    expect(decodeOpen(body)).toMatchObject({ asn: 65001, as4: false, families: ['ipv4'] });
  });
});

describe('UPDATE', () => {
  it('decodes both End-of-RIB forms', () => {
    expect(decodeUpdate(one(encodeEndOfRib('ipv4')).body, ctx).endOfRib).toBe('ipv4');
    expect(decodeUpdate(one(encodeEndOfRib('ipv6')).body, ctx).endOfRib).toBe('ipv6');
  });
  it('decodes attributes in any order and with extended length', () => {
    for (const mpFirst of [false, true]) {
      for (const extendedLength of [false, true]) {
        const raw = encodeUpdate({
          announced: ['81.0.0.0/24', '2a00:1::/32'], withdrawn: ['82.0.0.0/16', '2a00:9::/32'], asPath: [65001, 65002],
          med: 7, communities: [[65001, 1]], largeCommunities: [[65001, 2, 3]], mpFirst, extendedLength, origin: 2,
        });
        const u = decodeUpdate(one(raw).body, ctx);
        expect(u.treatedAsWithdraw).toBeNull();
        expect(u.announced.sort()).toEqual(['2a00:1::/32', '81.0.0.0/24']);
        expect(u.withdrawn.sort()).toEqual(['2a00:9::/32', '82.0.0.0/16']);
        expect(u.attrs).toMatchObject({ med: 7, origin: 'incomplete', communities: ['65001:1'], largeCommunities: ['65001:2:3'] });
      }
    }
  });
  it('clears host bits past the prefix length', () => {
    const body = Buffer.from([0, 0, 0, 0, 20, 81, 0, 0xff]);
    const u = decodeUpdate(Buffer.concat([body.subarray(0, 2), Buffer.from([0, 0]), body.subarray(4)]), ctx);
    expect(u.treatedAsWithdraw).toMatch(/missing/);
    expect(u.withdrawn).toEqual(['81.0.240.0/20']);
  });
  it('ignores LOCAL_PREF from an external peer and keeps it from an internal one', () => {
    const raw = encodeUpdate({ announced: ['81.0.0.0/24'], asPath: [65001], localPref: 200 });
    expect(decodeUpdate(one(raw).body, ctx).attrs.localPref).toBeUndefined();
    expect(decodeUpdate(one(raw).body, { ...ctx, ibgp: true }).attrs.localPref).toBe(200);
  });
});

describe('AS4_PATH merge (RFC 6793 §4.2.3)', () => {
  it('keeps the leading ASNs AS4_PATH does not cover', () => {
    const merged = mergeAs4Path(
      [{ type: SEG.AS_SEQUENCE, asns: [65001, 23456, 23456] }],
      [{ type: SEG.AS_SEQUENCE, asns: [4200000002, 4200000003] }],
    );
    expect(merged.flatMap((s) => s.asns)).toEqual([65001, 4200000002, 4200000003]);
  });
  it('ignores an AS4_PATH longer than AS_PATH', () => {
    const p = [{ type: SEG.AS_SEQUENCE, asns: [65001] }];
    expect(mergeAs4Path(p, [{ type: SEG.AS_SEQUENCE, asns: [1, 2] }])).toBe(p);
  });
});

describe('import policy', () => {
  const policy = ImportPolicySettings.parse({});
  it.each([
    ['81.0.0.0/24', null], ['0.0.0.0/0', 'default route'], ['10.1.0.0/16', 'bogon'], ['80.0.0.0/7', 'length'],
    ['2001:db8:1::/48', 'bogon'], ['2a00::/12', 'length'], ['2a00:1::/48', null], ['::/0', 'default route'],
    ['100.64.0.0/10', null],
  ])('%s', (prefix, why) => {
    const r = rejectReason(prefix, policy);
    if (why === null) expect(r).toBeNull();
    else expect(r).toMatch(why);
  });
});

describe('framing', () => {
  it('hands over the messages ahead of a bad header before throwing', () => {
    const good = encodeEndOfRib('ipv4');
    const bad = Buffer.from(good);
    bad[0] = 0;
    const got: number[] = [];
    expect(() => { for (const m of new MessageReader().push(Buffer.concat([good, good, bad]))) got.push(m.type); }).toThrow(/marker/);
    expect(got).toEqual([2, 2]);
  });
  it('reassembles a message split across reads', () => {
    const r = new MessageReader();
    const m = encodeEndOfRib('ipv6');
    expect([...r.push(m.subarray(0, 7))]).toEqual([]);
    expect([...r.push(m.subarray(7, 20))]).toEqual([]);
    expect([...r.push(m.subarray(20))].map((x) => x.type)).toEqual([2]);
  });
});
