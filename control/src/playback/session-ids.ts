// Session ids: 128 bits from the CSPRNG, base64url. Drawn from a pool filled 256 ids at a time,
// since a call into the CSPRNG per playback start cost about as much as the rest of making its
// token; every id still comes from bytes no other id used.

import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

export function newSessionId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
