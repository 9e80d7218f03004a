// Session ids are the capability for manifests and licences: 128 random bits each, none repeated
// across the pool's refills, behind the start time so the store's index on them grows at one edge.

import { expect, it } from 'vitest';
import { newSessionId } from '../src/playback/session-ids.ts';

it('session ids: 9 base-36 digits of time, then 22 base64url characters (16 random bytes), distinct over several refills of the pool', () => {
  const ids = Array.from({ length: 1_000 }, () => newSessionId());
  for (const id of ids) expect(Buffer.from(id.slice(9), 'base64url')).toHaveLength(16);
  expect(ids.every((id) => /^[0-9a-z]{9}[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids.map((id) => id.slice(9))).size).toBe(ids.length);
});

it('session ids sort by start time as strings (byte order, as SQLite compares TEXT)', () => {
  const times = [0, 35, 36, 1_700_000_000_000, 1_764_670_000_000, 1_764_670_000_001, 2_000_000_000_000];
  const ids = times.map((t) => newSessionId(t));
  expect([...ids].sort()).toEqual(ids);
  expect(ids.every((id) => id.length === 31)).toBe(true);
});
