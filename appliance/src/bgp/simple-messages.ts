// The small messages: KEEPALIVE, NOTIFICATION (RFC 4271 §4.5) and ROUTE-REFRESH (RFC 2918).

import { frame, MSG } from './wire.ts';

export interface Notification { code: number; subcode: number; data: Buffer }

export function encodeKeepalive(): Buffer {
  return frame(MSG.KEEPALIVE, new Uint8Array(0));
}

export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const body = Buffer.alloc(2 + data.length);
  body[0] = code;
  body[1] = subcode;
  body.set(data, 2);
  return frame(MSG.NOTIFICATION, body);
}

export function decodeNotification(body: Buffer): Notification {
  return { code: body[0], subcode: body[1], data: body.subarray(2) };
}

export function encodeRouteRefresh(afi: number, safi: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(afi, 0);
  body[3] = safi;
  return frame(MSG.ROUTE_REFRESH, body);
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};

export function describeNotification(n: { code: number; subcode: number }): string {
  return `${CODE_NAMES[n.code] ?? `code ${n.code}`} / subcode ${n.subcode}`;
}
