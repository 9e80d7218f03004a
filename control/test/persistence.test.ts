// Control restarts without forgetting: appliances, their last reported state (routes, inventory,
// replay guard), titles and keys come back from the store. Routes come back from the route log: the
// last full set and every delta after it, the latest one included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { routeSetHash } from '../../protocol/index.ts';
import type { ApplianceReport, RouteAttrs } from '../../protocol/index.ts';
import { Control } from '../src/control.ts';
import { loadSettings } from '../src/settings.ts';
import { Fleet } from '../src/steering/fleet.ts';
import { decodeEntry } from '../src/steering/route-log.ts';
import { SqliteRepository } from '../src/store/sqlite-repository.ts';
import { addSite, addTitle, enroll, KEK, OPERATOR, report, sendReport, startTestControl, titleRecord } from './helpers.ts';
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

describe('route log writes', () => {
  it('route deltas whose write failed are written by a later flush, in order, so the log still rebuilds the routes', async () => {
    const repo = new SqliteRepository(':memory:');
    let fail = false;
    const save = repo.saveSnapshots.bind(repo);
    repo.saveSnapshots = async (s) => { if (fail) throw new Error('store down'); return save(s); };
    const settings = loadSettings({ dbPath: ':memory:', logLevel: 'silent', kek: KEK }, {});
    const c = await Control.open({ settings, log: pino({ level: 'silent' }), repo, clock: () => 1_000 });
    try {
      await repo.putSite({ siteId: 's', kind: 'embedded', region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });
      await repo.addEnrollmentToken('tok', 's', 10);
      await repo.enroll('tok', 's', { applianceId: 'a', name: 'a', publicUrl: 'http://a', createdAt: 0, credentialHash: 'h' }, 0);
      const a = c.fleet.add('a', (await repo.getSite('s'))!, 'a', 'http://a');
      const set: RouteAttrs[] = [{ prefix: '10.0.0.0/8', asPathLength: 1 }];
      const send = (seq: number, prefixes: ApplianceReport['prefixes']) => c.fleet.applyReport(a, report({ seq, prefixes }), 1_000);
      send(1, { hash: routeSetHash(set), routes: [...set] });
      await c.flush();
      fail = true;
      for (let i = 0; i < 3; i++) {
        const base = routeSetHash(set);
        set.push({ prefix: `10.${i}.0.0/16`, asPathLength: 2 });
        send(2 + i, { kind: 'delta', baseHash: base, hash: routeSetHash(set), announced: [set[set.length - 1]], withdrawn: [] });
        await c.flush();
      }
      fail = false;
      await c.flush();
      const log = await repo.routeLog();
      expect(log.map((e) => e.full)).toEqual([true, false, false, false]);
      const restarted = new Fleet({ staleAfterMs: 30_000, overloadEnter: 0.9, overloadLeave: 0.75 });
      const b = restarted.add('a', a.site, 'a', a.publicUrl);
      for (const e of log) restarted.replayRoutes(b, decodeEntry(e));
      expect([b.prefixHash, b.routeSum.toString(), b.routes.length]).toEqual([routeSetHash(set), routeSetHash(set), set.length]);
    } finally {
      await c.close();
    }
  });
});
