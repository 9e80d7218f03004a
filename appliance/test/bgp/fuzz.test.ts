// A bounded fuzz run (see helpers/fuzz.ts): 20,000 random and mutated messages, however long they
// take, the speaker process stays alive, every NOTIFICATION is the predicted one, and no route is
// left behind once the sessions are gone. The heap before and after (a figure, not a pass/fail:
// V8's heap moves with the machine) comes with the bigger run: node appliance/test/bgp/fuzz-run.ts.

import { describe, expect, it } from 'vitest';
import { runFuzz } from './helpers/fuzz.ts';

describe('fuzz over a real socket', () => {
  it('survives random and mutated messages with the right NOTIFICATIONs', async () => {
    const r = await runFuzz({ messages: 20_000, seconds: Infinity, seed: Number(process.env.BGP_FUZZ_SEED ?? 0) || undefined });
    console.log(`BGP fuzz: ${JSON.stringify(r)}`);
    expect(r.mismatches).toEqual([]);
    expect(r.childAlive).toBe(true);
    expect(r.messages).toBe(20_000);
    expect(r.notificationsMatched).toBe(r.notificationsExpected);
    expect(r.notificationsExpected).toBeGreaterThan(100);
    // every UPDATE that should have been taken was taken (none silently lost or mis-framed)
    expect(r.updatesProcessed).toBe(r.updatesExpected);
    // Every session ended, so the speaker holds nothing learned from them.
    expect(r.prefixesAfter).toBe(0);
  }, 120_000);
});
