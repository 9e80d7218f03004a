// Session ids are the capability for manifests and licences: 128 random bits each, none repeated
// across the pool's refills.

import { expect, it } from 'vitest';
import { newSessionId } from '../src/playback/session-ids.ts';

it('session ids: 22 base64url characters (16 bytes), distinct over several refills of the pool', () => {
  const ids = Array.from({ length: 1_000 }, newSessionId);
  for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
});
