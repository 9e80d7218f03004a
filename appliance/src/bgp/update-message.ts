// UPDATE (RFC 4271 §4.3) decoding into what the RIB needs: withdrawn prefixes, announced
// prefixes with their attributes, End-of-RIB markers (RFC 4724 §2, both the empty IPv4 UPDATE and
// the bare MP_UNREACH_NLRI), and RFC 7606 treat-as-withdraw.

import { ATTR, parseAttributes, type AttrCache, type Attributes, type DecodeContext } from './path-attributes.ts';
import { decodePrefixes } from './nlri.ts';
import type { FamilyKey } from './open-message.ts';
import { BgpError, ERR, UPDATE_SUB } from './wire.ts';

export interface Update {
  withdrawn: string[];
  announced: string[];
  attrs: Attributes;
  endOfRib: FamilyKey | null;
  /** set when RFC 7606 turned this UPDATE's announcements into withdrawals */
  treatedAsWithdraw: string | null;
  /** the AttrCache key of this UPDATE's attributes, or null when not cached */
  attrsKey: string | null;
  /** the cache entry's value when the attributes were known (then `attrs` is empty) */
  cached: unknown;
}

export function decodeUpdate(body: Buffer, ctx: DecodeContext, cache?: AttrCache): Update {
  const malformed = (m: string) => new BgpError(ERR.UPDATE, UPDATE_SUB.MALFORMED_ATTR_LIST, m);
  const wlen = body.readUInt16BE(0);
  if (2 + wlen + 2 > body.length) throw malformed(`withdrawn routes length ${wlen} overruns the message`);
  const alenOff = 2 + wlen;
  const alen = body.readUInt16BE(alenOff);
  const aStart = alenOff + 2;
  if (aStart + alen > body.length) throw malformed(`total path attribute length ${alen} overruns the message`);
  if (body.length === 4) {
    return { withdrawn: [], announced: [], attrs: {}, endOfRib: 'ipv4', treatedAsWithdraw: null, attrsKey: null, cached: undefined };
  }
  const v4ok = ctx.families.includes('ipv4');
  const withdrawn = v4ok ? decodePrefixes(body, 2, alenOff, 4, ERR.UPDATE, UPDATE_SUB.INVALID_NETWORK) : [];
  const nlri = v4ok ? decodePrefixes(body, aStart + alen, body.length, 4, ERR.UPDATE, UPDATE_SUB.INVALID_NETWORK) : [];
  const p = parseAttributes(body, aStart, aStart + alen, ctx, cache);

  if (p.mpUnreach) withdrawn.push(...p.mpUnreach.prefixes);
  const endOfRib = p.mpUnreach && p.mpUnreach.prefixes.length === 0 && p.seen.length === 1 && wlen === 0 && nlri.length === 0
    ? p.mpUnreach.family : null;

  const announced = [...nlri, ...(p.mpReach?.prefixes ?? [])];
  let why = p.withdrawReason;
  if (!why && announced.length > 0) {
    // Missing well-known mandatory attributes: treat-as-withdraw (RFC 7606 §3 d).
    const need: number[] = [ATTR.ORIGIN, ATTR.AS_PATH];
    if (nlri.length > 0) need.push(ATTR.NEXT_HOP);
    if (ctx.ibgp) need.push(ATTR.LOCAL_PREF);
    const missing = need.filter((t) => !p.seen.includes(t));
    if (missing.length > 0) why = `missing well-known attribute ${missing.join(',')}`;
  }
  if (why) return { withdrawn: [...withdrawn, ...announced], announced: [], attrs: {}, endOfRib, treatedAsWithdraw: why, attrsKey: null, cached: undefined };
  return { withdrawn, announced, attrs: p.attrs, endOfRib, treatedAsWithdraw: null, attrsKey: p.attrsKey, cached: p.cached };
}
