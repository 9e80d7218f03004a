// BGP wire constants (RFC 4271 §4, §6) and the error type every decoder throws. A thrown
// BgpError carries exactly the NOTIFICATION the session must send before it resets.

export const MARKER_LEN = 16;
export const HEADER_LEN = 19;
/** We never advertise the extended-message capability (RFC 8654), so 4096 is the ceiling. */
export const MAX_MESSAGE_LEN = 4096;
export const AS_TRANS = 23456;

export const MSG = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

export const ERR = {
  HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER: 4, FSM: 5, CEASE: 6, ROUTE_REFRESH: 7,
} as const;

export const HEADER_SUB = { NOT_SYNCHRONIZED: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;
export const OPEN_SUB = {
  UNSPECIFIC: 0, BAD_VERSION: 1, BAD_PEER_AS: 2, BAD_BGP_ID: 3, UNSUPPORTED_PARAM: 4,
  BAD_HOLD_TIME: 6, UNSUPPORTED_CAPABILITY: 7,
} as const;
export const UPDATE_SUB = {
  MALFORMED_ATTR_LIST: 1, UNRECOGNIZED_WELL_KNOWN: 2, MISSING_WELL_KNOWN: 3, ATTR_FLAGS: 4,
  ATTR_LENGTH: 5, INVALID_ORIGIN: 6, INVALID_NEXT_HOP: 8, OPTIONAL_ATTR: 9, INVALID_NETWORK: 10,
  MALFORMED_AS_PATH: 11,
} as const;
export const CEASE_SUB = {
  MAX_PREFIXES: 1, ADMIN_SHUTDOWN: 2, PEER_DECONFIGURED: 3, ADMIN_RESET: 4, CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6, COLLISION: 7, OUT_OF_RESOURCES: 8,
} as const;
export const FSM_SUB = { UNSPECIFIC: 0, OPENSENT: 1, OPENCONFIRM: 2, ESTABLISHED: 3 } as const;

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI_UNICAST = 1;

export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  constructor(code: number, subcode: number, message: string, data: Uint8Array = new Uint8Array(0)) {
    super(message);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/** Wrap a body in the 19-octet header (all-ones marker, length, type). */
export function frame(type: number, body: Uint8Array): Buffer {
  const len = HEADER_LEN + body.length;
  const out = Buffer.alloc(len);
  out.fill(0xff, 0, MARKER_LEN);
  out.writeUInt16BE(len, 16);
  out[18] = type;
  out.set(body, HEADER_LEN);
  return out;
}
