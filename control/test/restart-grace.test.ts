// A control restarted from its database (down for minutes, on an injected clock) rebuilds steering
// from the next reports without flapping the fleet to stale in between: a box that was reporting
// when control stopped is steered to from the first moment, for one stale interval or until its
// next report; a box that was already stale when control stopped stays stale.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addSite, addTitle, enroll, OPERATOR, sendReport, startTestControl, titleRecord, type Ctx } from './helpers.ts';

const INTERVAL = 10_000;
const STALE_AFTER = 3 * INTERVAL; // staleIntervals defaults to 3
const ROUTES = [{ prefix: '192.0.2.0/24', asPathLength: 1 }];
const FILES = ['t1.v1', 't1.a1'];

const targets = async (c: Ctx) =>
  (await c.call('GET', '/v1/steering?ip=192.0.2.9&titleId=t1', { token: OPERATOR })).body.targets.map((t: { applianceId?: string }) => t.applianceId ?? 'origin');
const states = async (c: Ctx) =>
  Object.fromEntries((await c.call('GET', '/v1/appliances', { token: OPERATOR })).body.map((a: { applianceId: string; state: string; files: number }) => [a.applianceId, `${a.state}/${a.files}`]));

describe('control restarted from its database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-restart-grace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps steering to the boxes that were reporting until their next report, and not to those already stale', async () => {
    const dbPath = join(dir, 'c.db');
    const first = await startTestControl({ dbPath, reportIntervalMs: INTERVAL });
    const t0 = first.clock.t - 10 * 60_000; // the first control ran ten minutes before the second starts
    first.clock.t = t0;
    await addSite(first, 's1');
    await addTitle(first, titleRecord('t1'));
    const live = await enroll(first, 's1', 'live');
    const dead = await enroll(first, 's1', 'dead');
    await sendReport(first, dead, { files: FILES, routes: ROUTES });
    first.clock.t = t0 + STALE_AFTER + 5_000; // `dead` stops reporting; `live` goes on to the end
    await sendReport(first, live, { files: FILES, routes: ROUTES });
    expect(await targets(first)).toEqual([live.applianceId, 'origin']);
    await first.close();

    const second = await startTestControl({ dbPath, reportIntervalMs: INTERVAL });
    try {
      // control was down for minutes, far longer than a stale interval
      expect(second.clock.t - (t0 + STALE_AFTER + 5_000)).toBeGreaterThan(5 * 60_000);
      expect(await states(second)).toEqual({ [live.applianceId]: 'healthy/2', [dead.applianceId]: 'stale/2' });
      expect(await targets(second)).toEqual([live.applianceId, 'origin']);

      // the grace is one stale interval: a box that does not report in it goes stale after all
      second.clock.t += STALE_AFTER + 1;
      expect((await states(second))[live.applianceId]).toBe('stale/2');
      expect(await targets(second)).toEqual(['origin']);

      // its next report brings it back, rebuilt from what it says now
      const r = await sendReport(second, live, { files: ['t1.v1'], routes: ROUTES });
      expect(r.body.ok).toBe(true);
      expect((await states(second))[live.applianceId]).toBe('healthy/1');
      expect((await states(second))[dead.applianceId]).toBe('stale/2');
    } finally {
      await second.close();
    }
  });
});
