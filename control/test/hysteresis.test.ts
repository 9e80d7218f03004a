import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextOverloaded } from '../src/steering/appliance-state.ts';
import { addSite, enroll, OPERATOR, sendReport, startTestControl } from './helpers.ts';
import type { Ctx, Enrolled } from './helpers.ts';

const policy = { staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 };

describe('overload hysteresis', () => {
  it('enters at 90%, leaves only below 75%', () => {
    let over = false;
    const seen: boolean[] = [];
    for (const u of [0.5, 0.89, 0.9, 0.8, 0.76, 0.75, 0.74, 0.89, 0.95]) {
      over = nextOverloaded(over, u, policy);
      seen.push(over);
    }
    expect(seen).toEqual([false, false, true, true, true, true, false, false, true]);
  });

  it('a load hovering around the threshold does not flap', () => {
    let over = false, flips = 0;
    for (let i = 0; i < 100; i++) {
      const next = nextOverloaded(over, i % 2 ? 0.91 : 0.89, policy);
      if (next !== over) flips++;
      over = next;
    }
    expect(flips).toBe(1);
  });

  describe('through reports over HTTP', () => {
    let ctx: Ctx, a: Enrolled;
    beforeAll(async () => {
      ctx = await startTestControl();
      await addSite(ctx, 's1');
      a = await enroll(ctx, 's1', 'box1');
    });
    afterAll(() => ctx.close());

    it('state follows egress/capacity with hysteresis', async () => {
      const states: string[] = [];
      for (const egress of [5e9, 9.2e9, 8e9, 7.6e9, 7.4e9]) {
        expect((await sendReport(ctx, a, { egress, files: [], routes: [] })).status).toBe(200);
        states.push((await ctx.call('GET', `/v1/appliances/${a.applianceId}`, { token: OPERATOR })).body.state);
      }
      expect(states).toEqual(['healthy', 'overloaded', 'overloaded', 'overloaded', 'healthy']);
    });
  });
});
