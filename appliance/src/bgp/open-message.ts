// OPEN (RFC 4271 §4.2) with capabilities (RFC 5492): multiprotocol (RFC 4760), route refresh
// (RFC 2918), graceful restart (RFC 4724) and 4-octet AS (RFC 6793). A 4-octet local AS goes in
// My AS as AS_TRANS and in full in the capability.

import { AFI, AS_TRANS, BgpError, ERR, frame, MSG, OPEN_SUB, SAFI_UNICAST } from './wire.ts';

export const CAP = { MP: 1, ROUTE_REFRESH: 2, GRACEFUL_RESTART: 64, AS4: 65, ENHANCED_ROUTE_REFRESH: 70 } as const;

export type FamilyKey = 'ipv4' | 'ipv6';

export interface OpenMessage {
  version: number;
  /** the 2-octet My AS field as sent (AS_TRANS when the real AS needs 4 octets) */
  myAs: number;
  holdTime: number;
  routerId: string;
  /** the speaker's real AS: from the 4-octet capability when present, else My AS */
  asn: number;
  as4: boolean;
  families: FamilyKey[];
  routeRefresh: boolean;
  gracefulRestart: { restartTime: number; families: FamilyKey[] } | null;
  /** capability codes we do not interpret (kept for logs) */
  otherCapabilities: number[];
}

export interface OpenOptions {
  asn: number;
  holdTime: number;
  routerId: string;
  families: FamilyKey[];
  /** seconds advertised in the graceful-restart capability; null leaves the capability out */
  restartTime: number | null;
}

function familyOf(afi: number, safi: number): FamilyKey | null {
  if (safi !== SAFI_UNICAST) return null;
  return afi === AFI.IPV4 ? 'ipv4' : afi === AFI.IPV6 ? 'ipv6' : null;
}

function afiOf(f: FamilyKey): number {
  return f === 'ipv4' ? AFI.IPV4 : AFI.IPV6;
}

function routerIdBytes(id: string): Buffer {
  const parts = id.split('.').map(Number);
  return Buffer.from(parts);
}

export function encodeOpen(o: OpenOptions): Buffer {
  const caps: Buffer[] = [];
  const cap = (code: number, value: Buffer) => caps.push(Buffer.concat([Buffer.from([code, value.length]), value]));
  for (const f of o.families) cap(CAP.MP, Buffer.from([0, afiOf(f), 0, SAFI_UNICAST]));
  cap(CAP.ROUTE_REFRESH, Buffer.alloc(0));
  const as4 = Buffer.alloc(4);
  as4.writeUInt32BE(o.asn);
  cap(CAP.AS4, as4);
  if (o.restartTime !== null) {
    const gr = Buffer.alloc(2 + 4 * o.families.length);
    gr.writeUInt16BE(o.restartTime & 0x0fff, 0);
    o.families.forEach((f, i) => {
      gr.writeUInt16BE(afiOf(f), 2 + 4 * i);
      gr[2 + 4 * i + 2] = SAFI_UNICAST;
      gr[2 + 4 * i + 3] = 0; // forwarding state not preserved: we are a receiver only
    });
    cap(CAP.GRACEFUL_RESTART, gr);
  }
  const capBlock = Buffer.concat(caps);
  const params = Buffer.concat([Buffer.from([2, capBlock.length]), capBlock]);
  const head = Buffer.alloc(10);
  head[0] = 4;
  head.writeUInt16BE(o.asn > 0xffff ? AS_TRANS : o.asn, 1);
  head.writeUInt16BE(o.holdTime, 3);
  routerIdBytes(o.routerId).copy(head, 5);
  head[9] = params.length;
  return frame(MSG.OPEN, Buffer.concat([head, params]));
}

function openError(subcode: number, message: string, data?: Uint8Array): BgpError {
  return new BgpError(ERR.OPEN, subcode, message, data);
}

/** Decode and check the syntax of an OPEN body. Peer-specific checks (AS, hold time) are the session's. */
export function decodeOpen(body: Buffer): OpenMessage {
  const version = body[0];
  if (version !== 4) throw openError(OPEN_SUB.BAD_VERSION, `unsupported version ${version}`, Buffer.from([0, 4]));
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const routerId = `${body[5]}.${body[6]}.${body[7]}.${body[8]}`;
  const optLen = body[9];
  if (10 + optLen !== body.length) {
    throw openError(OPEN_SUB.UNSPECIFIC, `optional parameters length ${optLen} disagrees with message length`);
  }
  const o: OpenMessage = {
    version, myAs, holdTime, routerId, asn: myAs, as4: false, families: [], routeRefresh: false,
    gracefulRestart: null, otherCapabilities: [],
  };
  let sawMp = false;
  let off = 10;
  while (off < body.length) {
    if (off + 2 > body.length) throw openError(OPEN_SUB.UNSPECIFIC, 'truncated optional parameter');
    const ptype = body[off];
    const plen = body[off + 1];
    const pend = off + 2 + plen;
    if (pend > body.length) throw openError(OPEN_SUB.UNSPECIFIC, 'optional parameter overruns the message');
    if (ptype !== 2) throw openError(OPEN_SUB.UNSUPPORTED_PARAM, `unsupported optional parameter ${ptype}`);
    let c = off + 2;
    while (c < pend) {
      if (c + 2 > pend) throw openError(OPEN_SUB.UNSPECIFIC, 'truncated capability');
      const code = body[c];
      const clen = body[c + 1];
      const v = c + 2;
      if (v + clen > pend) throw openError(OPEN_SUB.UNSPECIFIC, `capability ${code} overruns its parameter`);
      const val = body.subarray(v, v + clen);
      const bad = () => openError(OPEN_SUB.UNSPECIFIC, `capability ${code} has bad length ${clen}`);
      switch (code) {
        case CAP.MP: {
          if (clen !== 4) throw bad();
          sawMp = true;
          const f = familyOf(val.readUInt16BE(0), val[3]);
          if (f && !o.families.includes(f)) o.families.push(f);
          break;
        }
        case CAP.ROUTE_REFRESH:
          if (clen !== 0) throw bad();
          o.routeRefresh = true;
          break;
        case CAP.AS4:
          if (clen !== 4) throw bad();
          o.as4 = true;
          o.asn = val.readUInt32BE(0);
          break;
        case CAP.GRACEFUL_RESTART: {
          if (clen < 2 || (clen - 2) % 4 !== 0) throw bad();
          const fams: FamilyKey[] = [];
          for (let i = 2; i < clen; i += 4) {
            const f = familyOf(val.readUInt16BE(i), val[i + 2]);
            if (f) fams.push(f);
          }
          o.gracefulRestart = { restartTime: val.readUInt16BE(0) & 0x0fff, families: fams };
          break;
        }
        default:
          o.otherCapabilities.push(code);
      }
      c = v + clen;
    }
    off = pend;
  }
  // Without any multiprotocol capability, IPv4 unicast is implied (RFC 4760 §1).
  if (!sawMp) o.families.push('ipv4');
  return o;
}
