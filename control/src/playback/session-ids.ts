// Session ids: the start time, then 128 bits from the CSPRNG. The random part is the capability
// (base64url, drawn from a pool filled 256 ids at a time, since a call into the CSPRNG per
// playback start cost about as much as the rest of making its token; every id still comes from
// bytes no other id used). The time in front — milliseconds, 9 base-36 digits, which sort as
// ASCII does — makes ids grow over time, so a start's entry in the store's index on the id lands
// at its right edge beside the starts before it instead of on a random page: in groups of 16
// inserts into a table of 160k sessions, 0.69 WAL pages per start against 1.77, and about half
// the insert's CPU. The time says nothing a session's holder does not know already.

import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
const TIME_DIGITS = 9; // 36^9 ms is past the year 5000
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

export function newSessionId(nowMs = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return Math.floor(nowMs).toString(36).padStart(TIME_DIGITS, '0') + id;
}
