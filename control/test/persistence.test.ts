// Control restarts without forgetting: appliances, their last reported state (routes, inventory,
// replay guard), titles and keys come back from the store. Routes come back from the route log: the
// last full set and every delta after it, the latest one included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { routeSetHash } from '../../protocol/index.ts';
import { loadSettings } from '../src/settings.ts';
import { addSite, addTitle, enroll, OPERATOR, report, sendReport, startTestControl, titleRecord } from './helpers.ts';
import { eachStore } from './postgres.ts';

const stores = eachStore();
afterAll(() => stores.stop());

describe.each(stores.list)('restart (%s)', (_store, overrides) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-persist-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('brings back the fleet, its routes and the replay guard', async () => {
    // one database for both lives: the SQLite file, or the same PostgreSQL database
    const store = { dbPath: join(dir, `c-${_store}.db`), ...await overrides() };
    const first = await startTestControl(store);
    await addSite(first, 's1');
    const box = await enroll(first, 's1', 'box1');
    const full = [{ prefix: '192.0.2.0/24', asPathLength: 1 }], added = { prefix: '198.51.100.0/24', asPathLength: 2 };
    await sendReport(first, box, { files: ['t1.v1', 't1.a1'], prefixes: { hash: routeSetHash(full), routes: full } });
    // a delta just before the restart is not lost
    const hash = routeSetHash([...full, added]);
    expect((await sendReport(first, box, { prefixes: { kind: 'delta', baseHash: routeSetHash(full), hash, announced: [added], withdrawn: [] } })).body).toEqual({ ok: true, drain: false });
    await addTitle(first, titleRecord('t1'));
    await first.close();

    const second = await startTestControl(store);
    try {
      second.clock.t = first.clock.t;
      for (const ip of ['192.0.2.9', '198.51.100.9']) {
        const steer = await second.call('GET', `/v1/steering?ip=${ip}&titleId=t1`, { token: OPERATOR });
        expect(steer.body.targets.map((t: { applianceId?: string }) => t.applianceId ?? 'origin')).toEqual([box.applianceId, 'origin']);
      }
      const replay = await second.call('POST', `/v1/appliances/${box.applianceId}/report`, { token: box.credential, body: report({ seq: box.seq, bootId: box.bootId }) });
      expect(replay.body).toEqual({ ok: false, ignored: true });
      const delta = await sendReport(second, box, { inventory: { kind: 'delta', baseHash: 'h-t1.v1,t1.a1', hash: 'h2', added: [], removed: ['t1.a1'] }, prefixes: { hash } });
      expect(delta.body).toEqual({ ok: true, drain: false });
      const after = await second.call('GET', '/v1/steering?ip=192.0.2.9&titleId=t1', { token: OPERATOR });
      expect(after.body.targets).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe('settings', () => {
  it('names the bad setting and where it came from', () => {
    expect(() => loadSettings({ topK: 0 }, {}, 'control.json')).toThrow('setting "topK" (control.json)');
    expect(() => loadSettings({}, { EDGEBOX_CONTROL_KEK: 'short' })).toThrow('setting "kek" (env EDGEBOX_CONTROL_KEK): must be 64 hex digits');
    expect(() => loadSettings({ overloadEnter: 0.7 }, {})).toThrow('overloadLeave');
    expect(() => loadSettings({ trustedProxies: ['nope'] }, {})).toThrow('trustedProxies.0');
    expect(loadSettings({}, { EDGEBOX_CONTROL_TOP_K: '5' }).topK).toBe(5);
  });
});
