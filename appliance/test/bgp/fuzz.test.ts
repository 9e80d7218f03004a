// A bounded fuzz run (see helpers/fuzz.ts): tens of thousands of random and mutated messages,
// the speaker process stays alive, every NOTIFICATION is the predicted one, and the heap does
// not grow once the learned routes are gone. A bigger run: node appliance/test/bgp/fuzz-run.ts.

import { describe, expect, it } from 'vitest';
import { runFuzz } from './helpers/fuzz.ts';

describe('fuzz over a real socket', () => {
  it('survives random and mutated messages with the right NOTIFICATIONs', async () => {
    const r = await runFuzz({ messages: 50_000, seconds: 40, seed: Number(process.env.BGP_FUZZ_SEED ?? 0) || undefined });
    console.log(`BGP fuzz: ${JSON.stringify(r)}`);
    expect(r.mismatches).toEqual([]);
    expect(r.childAlive).toBe(true);
    expect(r.messages).toBeGreaterThanOrEqual(10_000);
    expect(r.notificationsMatched).toBe(r.notificationsExpected);
    expect(r.notificationsExpected).toBeGreaterThan(100);
    // every UPDATE that should have been taken was taken (none silently lost or mis-framed)
    expect(r.updatesProcessed).toBe(r.updatesExpected);
    // Same empty RIB before and after: anything beyond noise would be a leak.
    expect(r.heapAfterMb - r.heapBeforeMb).toBeLessThan(8);
  }, 120_000);
});
