// Builds UPDATE messages. The appliance advertises nothing; this exists so tests and the fuzz
// tool can speak to our speaker the way a router does (attribute order, extended length, 2- or
// 4-octet AS paths, MP_REACH for IPv6).

import { encodeAsPath, SEG, type Segment } from './as-path.ts';
import { encodePrefixes, prefixFamily } from './nlri.ts';
import { ATTR } from './path-attributes.ts';
import { AFI, frame, MSG, SAFI_UNICAST } from './wire.ts';
import { parseAddress } from '../../../protocol/index.ts';

export interface UpdateSpec {
  withdrawn?: string[];
  announced?: string[];
  origin?: 0 | 1 | 2;
  asPath?: number[] | Segment[];
  nextHop?: string;
  nextHop6?: string;
  med?: number;
  localPref?: number;
  communities?: [number, number][];
  largeCommunities?: [number, number, number][];
  as4?: boolean;
  /** force the extended-length flag on every attribute (BIRD does on MP_REACH) */
  extendedLength?: boolean;
  /** emit MP attributes first (BIRD) instead of last (GoBGP, ExaBGP) */
  mpFirst?: boolean;
}

function attr(flags: number, type: number, val: Buffer, ext: boolean): Buffer {
  if (ext || val.length > 255) {
    const h = Buffer.from([flags | 0x10, type, 0, 0]);
    h.writeUInt16BE(val.length, 2);
    return Buffer.concat([h, val]);
  }
  return Buffer.concat([Buffer.from([flags, type, val.length]), val]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function addrBytes(a: string, width: number): Buffer {
  const p = parseAddress(a);
  if (!p) throw new Error(`bad address ${a}`);
  const b = Buffer.alloc(width);
  for (let i = 0; i < width; i++) b[i] = Number((p.value >> BigInt(8 * (width - 1 - i))) & 0xffn);
  return b;
}

export function encodeUpdate(s: UpdateSpec): Buffer {
  const ext = s.extendedLength ?? false;
  const w4 = (s.withdrawn ?? []).filter((p) => prefixFamily(p) === 4);
  const w6 = (s.withdrawn ?? []).filter((p) => prefixFamily(p) === 6);
  const a4 = (s.announced ?? []).filter((p) => prefixFamily(p) === 4);
  const a6 = (s.announced ?? []).filter((p) => prefixFamily(p) === 6);
  const plain: Buffer[] = [];
  const mp: Buffer[] = [];
  if (a4.length > 0 || a6.length > 0) {
    plain.push(attr(0x40, ATTR.ORIGIN, Buffer.from([s.origin ?? 0]), ext));
    const path = s.asPath ?? [];
    const segs: Segment[] = path.length > 0 && typeof path[0] === 'number'
      ? [{ type: SEG.AS_SEQUENCE, asns: path as number[] }] : (path as Segment[]);
    plain.push(attr(0x40, ATTR.AS_PATH, encodeAsPath(segs.filter((x) => x.asns.length > 0), s.as4 === false ? 2 : 4), ext));
    if (a4.length > 0) plain.push(attr(0x40, ATTR.NEXT_HOP, addrBytes(s.nextHop ?? '192.0.2.1', 4), ext));
    if (s.med !== undefined) plain.push(attr(0x80, ATTR.MED, u32(s.med), ext));
    if (s.localPref !== undefined) plain.push(attr(0x40, ATTR.LOCAL_PREF, u32(s.localPref), ext));
    if (s.communities?.length) {
      plain.push(attr(0xc0, ATTR.COMMUNITIES, Buffer.concat(s.communities.map(([a, b]) => u32(((a << 16) | b) >>> 0))), ext));
    }
    if (s.largeCommunities?.length) {
      plain.push(attr(0xc0, ATTR.LARGE_COMMUNITIES, Buffer.concat(s.largeCommunities.flat().map(u32)), ext));
    }
  }
  if (a6.length > 0) {
    const nh = addrBytes(s.nextHop6 ?? '2001:db8::1', 16);
    const head = Buffer.from([0, AFI.IPV6, SAFI_UNICAST, 16]);
    mp.push(attr(0x80, ATTR.MP_REACH, Buffer.concat([head, nh, Buffer.from([0]), encodePrefixes(a6)]), ext));
  }
  if (w6.length > 0) {
    mp.push(attr(0x80, ATTR.MP_UNREACH, Buffer.concat([Buffer.from([0, AFI.IPV6, SAFI_UNICAST]), encodePrefixes(w6)]), ext));
  }
  const attrs = Buffer.concat(s.mpFirst ? [...mp, ...plain] : [...plain, ...mp]);
  const wd = encodePrefixes(w4);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(wd.length);
  const alen = Buffer.alloc(2);
  alen.writeUInt16BE(attrs.length);
  return frame(MSG.UPDATE, Buffer.concat([head, wd, alen, attrs, encodePrefixes(a4)]));
}

/** End-of-RIB: the empty UPDATE for IPv4, a bare MP_UNREACH_NLRI for other families. */
export function encodeEndOfRib(family: 'ipv4' | 'ipv6'): Buffer {
  if (family === 'ipv4') return frame(MSG.UPDATE, Buffer.alloc(4));
  const a = attr(0x80, ATTR.MP_UNREACH, Buffer.from([0, AFI.IPV6, SAFI_UNICAST]), false);
  const body = Buffer.alloc(4 + a.length);
  body.writeUInt16BE(a.length, 2);
  a.copy(body, 4);
  return frame(MSG.UPDATE, body);
}
