// Path attributes of an UPDATE (RFC 4271 §5, RFC 4760, RFC 6793, RFC 1997, RFC 8092), in any
// order and with or without the extended-length flag, with RFC 7606 error handling: a malformed
// attribute either throws (session reset), marks the UPDATE treat-as-withdraw, or is discarded.

import type { Family } from '../../../protocol/index.ts';
import { asPathLength, flattenAsPath, mergeAs4Path, parseAsPath, type Segment } from './as-path.ts';
import { decodePrefixes } from './nlri.ts';
import type { FamilyKey } from './open-message.ts';
import { AFI, BgpError, ERR, SAFI_UNICAST, UPDATE_SUB } from './wire.ts';

export const ATTR = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7,
  COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, MP_UNREACH: 15, EXT_COMMUNITIES: 16,
  AS4_PATH: 17, AS4_AGGREGATOR: 18, LARGE_COMMUNITIES: 32,
} as const;

const OPTIONAL = 0x80, TRANSITIVE = 0x40, PARTIAL = 0x20, EXTENDED = 0x10;
const WELL_KNOWN = TRANSITIVE, OPT_NT = OPTIONAL, OPT_T = OPTIONAL | TRANSITIVE;
const EXPECTED_FLAGS: Record<number, number> = {
  1: WELL_KNOWN, 2: WELL_KNOWN, 3: WELL_KNOWN, 4: OPT_NT, 5: WELL_KNOWN, 6: WELL_KNOWN, 7: OPT_T, 8: OPT_T,
  9: OPT_NT, 10: OPT_NT, 14: OPT_NT, 15: OPT_NT, 16: OPT_T, 17: OPT_T, 18: OPT_T, 32: OPT_T,
};
/** Attributes whose malformation RFC 7606 answers with attribute-discard rather than withdraw. */
const DISCARD_ON_ERROR = new Set<number>([ATTR.ATOMIC_AGGREGATE, ATTR.AGGREGATOR, ATTR.AS4_PATH, ATTR.AS4_AGGREGATOR]);
const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export interface DecodeContext { as4: boolean; families: readonly FamilyKey[]; ibgp: boolean }

export interface Attributes {
  origin?: (typeof ORIGINS)[number];
  asPath?: Segment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
}

export interface MpReach { family: FamilyKey; nextHop: string; prefixes: string[] }
export interface MpUnreach { family: FamilyKey; prefixes: string[] }

export interface ParsedAttributes {
  /** empty when the attribute set was cached (see AttrCache): use the cached value */
  attrs: Attributes;
  mpReach: MpReach | null;
  mpUnreach: MpUnreach | null;
  /** attribute type codes seen, in order (may be shared with the cache: never mutate) */
  seen: number[];
  /** why the UPDATE's NLRI must be treated as withdrawn (RFC 7606), or null */
  withdrawReason: string | null;
  /** the attribute octets but MP_REACH/MP_UNREACH, as a key, when they are in the cache */
  attrsKey: string | null;
  /** the cache entry's value: what the receiver made of these attributes the first time */
  cached: unknown;
}

/**
 * Attribute sets seen on one connection, by their octets (MP_REACH/MP_UNREACH left out: those
 * carry the prefixes). A full table repeats each attribute set across many UPDATEs; for a known
 * set only the MP attributes are parsed, and the receiver keeps in `value` what it made of the
 * set the first time (the speaker: the RIB's attributes object), so nothing else is allocated.
 * About 150 bytes an entry; cleared past ATTR_CACHE_MAX.
 */
export type AttrCache = Map<string, { seen: number[]; value: unknown }>;
export const ATTR_CACHE_MAX = 100_000;
const NO_ATTRS: Attributes = Object.freeze({});

/** The octets of every attribute but the MP ones, or null if the list is not well formed (or has no such attribute). */
function cacheKey(buf: Buffer, start: number, end: number): string | null {
  let off = start, key = '', run = -1;
  while (off < end) {
    if (end - off < 3) return null;
    const flags = buf[off], type = buf[off + 1];
    const ext = (flags & EXTENDED) !== 0;
    if (ext && end - off < 4) return null;
    const next = off + (ext ? 4 + buf.readUInt16BE(off + 2) : 3 + buf[off + 2]);
    if (next > end) return null;
    if (type === ATTR.MP_REACH || type === ATTR.MP_UNREACH) {
      if (run >= 0) { key += buf.toString('latin1', run, off); run = -1; }
    } else if (run < 0) {
      run = off;
    }
    off = next;
  }
  if (run >= 0) key += buf.toString('latin1', run, end);
  return key === '' ? null : key;
}

export function parseAttributes(buf: Buffer, start: number, end: number, ctx: DecodeContext, cache?: AttrCache): ParsedAttributes {
  const key = cache ? cacheKey(buf, start, end) : null;
  if (key !== null) {
    const hit = cache!.get(key);
    if (hit && hit.value !== undefined) {
      const r = parse(buf, start, end, ctx, true);
      r.attrs = NO_ATTRS;
      r.seen = r.seen.length === 0 ? hit.seen : [...hit.seen, ...r.seen];
      r.attrsKey = key;
      r.cached = hit.value;
      return r;
    }
  }
  const r = parse(buf, start, end, ctx, false);
  if (key !== null && r.withdrawReason === null) {
    if (cache!.size >= ATTR_CACHE_MAX) cache!.clear();
    cache!.set(key, { seen: r.seen.filter((t) => t !== ATTR.MP_REACH && t !== ATTR.MP_UNREACH), value: undefined });
    r.attrsKey = key;
  }
  return r;
}

function attrData(flags: number, type: number, val: Buffer): Buffer {
  const ext = (flags & EXTENDED) !== 0;
  const head = ext ? Buffer.from([flags, type, val.length >> 8, val.length & 0xff]) : Buffer.from([flags, type, val.length]);
  return Buffer.concat([head, val]);
}

function familyKey(afi: number, safi: number): FamilyKey | null {
  if (safi !== SAFI_UNICAST) return null;
  return afi === AFI.IPV4 ? 'ipv4' : afi === AFI.IPV6 ? 'ipv6' : null;
}

function ipv6(b: Buffer): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  return g.join(':');
}

/** `data` builds the attribute's octets for the NOTIFICATION, only when one is sent. */
function mpError(message: string, data: () => Buffer): BgpError {
  return new BgpError(ERR.UPDATE, UPDATE_SUB.OPTIONAL_ATTR, message, data());
}

function decodeMpReach(val: Buffer, data: () => Buffer, ctx: DecodeContext): MpReach | null {
  if (val.length < 5) throw mpError('MP_REACH_NLRI too short', data);
  const fam = familyKey(val.readUInt16BE(0), val[2]);
  const nhLen = val[3];
  if (5 + nhLen > val.length) throw mpError('MP_REACH_NLRI next hop overruns the attribute', data);
  // A family we did not negotiate is ignored rather than fatal (RFC 4760 §7 leaves it to us).
  if (!fam || !ctx.families.includes(fam)) return null;
  let nextHop: string;
  if (fam === 'ipv6') {
    if (nhLen !== 16 && nhLen !== 32) throw mpError(`IPv6 next hop length ${nhLen}`, data);
    nextHop = ipv6(val.subarray(4, 20));
  } else {
    if (nhLen !== 4 && nhLen !== 16 && nhLen !== 32) throw mpError(`IPv4 next hop length ${nhLen}`, data);
    nextHop = nhLen === 4 ? `${val[4]}.${val[5]}.${val[6]}.${val[7]}` : ipv6(val.subarray(4, 20));
  }
  const family: Family = fam === 'ipv4' ? 4 : 6;
  const prefixes = decodePrefixes(val, 5 + nhLen, val.length, family, ERR.UPDATE, UPDATE_SUB.OPTIONAL_ATTR);
  return { family: fam, nextHop, prefixes };
}

function decodeMpUnreach(val: Buffer, data: () => Buffer, ctx: DecodeContext): MpUnreach | null {
  if (val.length < 3) throw mpError('MP_UNREACH_NLRI too short', data);
  const fam = familyKey(val.readUInt16BE(0), val[2]);
  if (!fam || !ctx.families.includes(fam)) return null;
  const prefixes = decodePrefixes(val, 3, val.length, fam === 'ipv4' ? 4 : 6, ERR.UPDATE, UPDATE_SUB.OPTIONAL_ATTR);
  return { family: fam, prefixes };
}

/** `mpOnly`: the rest is cached (and known well formed); only MP_REACH/MP_UNREACH are read. */
function parse(buf: Buffer, start: number, end: number, ctx: DecodeContext, mpOnly: boolean): ParsedAttributes {
  const r: ParsedAttributes = { attrs: {}, mpReach: null, mpUnreach: null, seen: [], withdrawReason: null, attrsKey: null, cached: undefined };
  const withdraw = (why: string) => { r.withdrawReason ??= why; };
  let as4Path: Segment[] | null = null;
  let off = start;
  while (off < end) {
    // RFC 7606 §4: a short or overrunning last attribute is treat-as-withdraw; the total
    // attribute length still locates the NLRI.
    if (end - off < 3) { withdraw('attribute list truncated'); break; }
    const flags = buf[off];
    const type = buf[off + 1];
    const ext = (flags & EXTENDED) !== 0;
    if (ext && end - off < 4) { withdraw('attribute header truncated'); break; }
    const len = ext ? buf.readUInt16BE(off + 2) : buf[off + 2];
    const vstart = off + (ext ? 4 : 3);
    if (vstart + len > end) { withdraw(`attribute ${type} overruns the attribute list`); break; }
    if (mpOnly && type !== ATTR.MP_REACH && type !== ATTR.MP_UNREACH) { off = vstart + len; continue; }
    const val = buf.subarray(vstart, vstart + len);
    off = vstart + len;
    const data = () => attrData(flags, type, val);
    if (type === ATTR.MP_REACH || type === ATTR.MP_UNREACH) {
      if (r.seen.includes(type)) throw new BgpError(ERR.UPDATE, UPDATE_SUB.MALFORMED_ATTR_LIST, `attribute ${type} repeated`);
    } else if (r.seen.includes(type)) {
      continue; // RFC 7606 §3 g: keep the first, discard repeats
    }
    r.seen.push(type);
    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      if ((flags & OPTIONAL) === 0) {
        throw new BgpError(ERR.UPDATE, UPDATE_SUB.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${type}`, data());
      }
      continue; // unknown optional: not ours to interpret
    }
    if ((flags & (OPTIONAL | TRANSITIVE)) !== expected || ((flags & OPTIONAL) === 0 && (flags & PARTIAL) !== 0)) {
      if (type === ATTR.MP_REACH || type === ATTR.MP_UNREACH) {
        throw new BgpError(ERR.UPDATE, UPDATE_SUB.ATTR_FLAGS, `attribute ${type} has flags 0x${flags.toString(16)}`, data());
      }
      if (!DISCARD_ON_ERROR.has(type)) withdraw(`attribute ${type} has flags 0x${flags.toString(16)}`);
      continue;
    }
    switch (type) {
      case ATTR.ORIGIN:
        if (len !== 1 || val[0] > 2) withdraw('malformed ORIGIN');
        else r.attrs.origin = ORIGINS[val[0]];
        break;
      case ATTR.AS_PATH: {
        const segs = parseAsPath(val, ctx.as4 ? 4 : 2);
        if (!segs) withdraw('malformed AS_PATH');
        else r.attrs.asPath = segs;
        break;
      }
      case ATTR.NEXT_HOP:
        if (len !== 4) withdraw('malformed NEXT_HOP');
        else if (val[0] === 0 || val[0] >= 224) withdraw(`invalid NEXT_HOP ${val.join('.')}`);
        else r.attrs.nextHop = val.join('.');
        break;
      case ATTR.MED:
        if (len !== 4) withdraw('malformed MULTI_EXIT_DISC');
        else r.attrs.med = val.readUInt32BE(0);
        break;
      case ATTR.LOCAL_PREF:
        // From an external peer LOCAL_PREF is discarded (RFC 7606 §7.5).
        if (!ctx.ibgp) break;
        if (len !== 4) withdraw('malformed LOCAL_PREF');
        else r.attrs.localPref = val.readUInt32BE(0);
        break;
      case ATTR.COMMUNITIES:
        if (len === 0 || len % 4 !== 0) { withdraw('malformed COMMUNITIES'); break; }
        r.attrs.communities = [];
        for (let i = 0; i < len; i += 4) r.attrs.communities.push(`${val.readUInt16BE(i)}:${val.readUInt16BE(i + 2)}`);
        break;
      case ATTR.LARGE_COMMUNITIES:
        if (len === 0 || len % 12 !== 0) { withdraw('malformed LARGE_COMMUNITY'); break; }
        r.attrs.largeCommunities = [];
        for (let i = 0; i < len; i += 12) {
          r.attrs.largeCommunities.push(`${val.readUInt32BE(i)}:${val.readUInt32BE(i + 4)}:${val.readUInt32BE(i + 8)}`);
        }
        break;
      case ATTR.ORIGINATOR_ID:
        if (ctx.ibgp && len !== 4) withdraw('malformed ORIGINATOR_ID');
        break;
      case ATTR.CLUSTER_LIST:
        if (ctx.ibgp && (len === 0 || len % 4 !== 0)) withdraw('malformed CLUSTER_LIST');
        break;
      case ATTR.AS4_PATH:
        // Only meaningful from a 2-octet speaker; malformed or confederation segments: discard (RFC 6793 §6).
        if (!ctx.as4) {
          const segs = parseAsPath(val, 4);
          if (segs && segs.every((s) => s.type <= 2)) as4Path = segs;
        }
        break;
      case ATTR.MP_REACH:
        r.mpReach = decodeMpReach(val, data, ctx);
        break;
      case ATTR.MP_UNREACH:
        r.mpUnreach = decodeMpUnreach(val, data, ctx);
        break;
      default:
        break; // ATOMIC_AGGREGATE, AGGREGATOR, extended communities: not used for steering
    }
  }
  if (as4Path && r.attrs.asPath) r.attrs.asPath = mergeAs4Path(r.attrs.asPath, as4Path);
  return r;
}

export function summarizeAsPath(segs: readonly Segment[] | undefined): { asPath: number[]; asPathLength: number } {
  return segs ? { asPath: flattenAsPath(segs), asPathLength: asPathLength(segs) } : { asPath: [], asPathLength: 0 };
}
