// Splits a TCP byte stream into BGP messages and checks the header (RFC 4271 §6.1): marker,
// length bounds overall and per type, and known type. A bad header throws the BgpError whose
// NOTIFICATION the session sends; bytes are never trusted past the first bad header.

import { BgpError, ERR, HEADER_LEN, HEADER_SUB, MARKER_LEN, MAX_MESSAGE_LEN, MSG } from './wire.ts';

export interface RawMessage { type: number; body: Buffer }

const MIN_LEN: Record<number, number> = {
  [MSG.OPEN]: 29, [MSG.UPDATE]: 23, [MSG.NOTIFICATION]: 21, [MSG.KEEPALIVE]: 19, [MSG.ROUTE_REFRESH]: 23,
};

function badLength(len: number): BgpError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(len);
  return new BgpError(ERR.HEADER, HEADER_SUB.BAD_LENGTH, `bad message length ${len}`, data);
}

export class MessageReader {
  #pending: Buffer = Buffer.alloc(0);

  /**
   * Append bytes and yield each complete message in turn. Lazy on purpose: messages ahead of a
   * bad header in the same chunk are handed over (and acted on) before the error is thrown.
   */
  *push(chunk: Buffer): Generator<RawMessage> {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const buf = this.#pending;
    let off = 0;
    while (buf.length - off >= HEADER_LEN) {
      for (let i = 0; i < MARKER_LEN; i++) {
        if (buf[off + i] !== 0xff) throw new BgpError(ERR.HEADER, HEADER_SUB.NOT_SYNCHRONIZED, 'marker is not all ones');
      }
      const len = buf.readUInt16BE(off + 16);
      const type = buf[off + 18];
      if (len < HEADER_LEN || len > MAX_MESSAGE_LEN) throw badLength(len);
      const min = MIN_LEN[type];
      if (min === undefined) {
        throw new BgpError(ERR.HEADER, HEADER_SUB.BAD_TYPE, `unknown message type ${type}`, Buffer.from([type]));
      }
      // KEEPALIVE is exactly 19 octets and ROUTE-REFRESH exactly 23 (RFC 4271 §6.1, RFC 2918).
      if (len < min || (type === MSG.KEEPALIVE && len !== 19) || (type === MSG.ROUTE_REFRESH && len !== 23)) {
        throw badLength(len);
      }
      if (buf.length - off < len) break;
      const m = { type, body: buf.subarray(off + HEADER_LEN, off + len) };
      off += len;
      this.#pending = buf.subarray(off);
      yield m;
    }
    this.#pending = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  }
}
