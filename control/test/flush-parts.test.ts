// Control writes what reports changed in parts of at most 256 appliances per store call, so a
// flush after thousands of first reports (a restart, a fleet coming up) never builds every
// route-log body at once: in one go, 10,000 boxes' bodies left control's RSS ~370 MB higher for
// good (freed buffers stay in malloc's heap; bench:steering). A part whose write fails is written
// by the next flush; the other parts are not written twice.
import pino from 'pino';
import { expect, it, vi } from 'vitest';
import { routeSetHash } from '../../protocol/index.ts';
import { Control } from '../src/control.ts';
import { loadSettings } from '../src/settings.ts';
import { decodeEntry } from '../src/steering/route-log.ts';
import type { ApplianceSnapshot, Site } from '../src/store/repository.ts';
import { KEK, OPERATOR, report } from './helpers.ts';

/** a control on an in-memory SQLite store */
async function openControl(): Promise<Control> {
  const settings = loadSettings({
    port: 0, dbPath: ':memory:', logLevel: 'silent', operatorToken: OPERATOR, kek: KEK,
    urlTokenSecret: 'url-token-secret-0123456789', originUrl: 'http://origin.test:8090',
  }, {});
  return Control.open({ settings, log: pino({ level: 'silent' }) });
}

const site: Site = { siteId: 's', kind: 'embedded', region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } };

it('writes a big flush in parts of at most 256 appliances, and writes a failed part again next time', async () => {
  const control = await openControl();
  try {
    const hashes = new Map<string, string>();
    for (let i = 0; i < 600; i++) {
      const id = `a${i}`;
      const routes = [{ prefix: `10.${i >> 8}.${i & 255}.0/24`, asPathLength: 1 }];
      hashes.set(id, routeSetHash(routes));
      const a = control.fleet.add(id, site, id, `http://${id}.test`);
      control.fleet.applyReport(a, report({ seq: 1, prefixes: { hash: routeSetHash(routes), routes } }), Date.now());
    }
    const save = control.repo.saveSnapshots.bind(control.repo);
    const parts: string[][] = [];
    vi.spyOn(control.repo, 'saveSnapshots').mockImplementation(async (batch: ApplianceSnapshot[]) => {
      parts.push(batch.map((s) => s.applianceId));
      if (parts.length === 2) throw new Error('disk full');
      return save(batch);
    });

    await control.flush();
    expect(parts.map((p) => p.length)).toEqual([256, 256, 88]);
    expect(new Set((await control.repo.routeLog()).map((r) => r.applianceId)).size).toBe(344);

    await control.flush(); // only the part that failed
    expect(parts.map((p) => p.length)).toEqual([256, 256, 88, 256]);
    expect(parts[3]).toEqual(parts[1]);
    const rows = await control.repo.routeLog();
    expect(rows).toHaveLength(600);
    for (const r of rows) {
      const e = decodeEntry(r);
      expect(e.full && e.hash).toBe(hashes.get(r.applianceId));
    }
  } finally {
    vi.restoreAllMocks();
    await control.close();
  }
});

it('runs flushes one after another: a flush started while one is writing waits for it, so route-log entries reach the store in order', async () => {
  const control = await openControl();
  try {
    const a = control.fleet.add('a', site, 'a', 'http://a.test');
    const set = [{ prefix: '10.0.0.0/24', asPathLength: 1 }];
    control.fleet.applyReport(a, report({ seq: 1, prefixes: { hash: routeSetHash(set), routes: set } }), Date.now());
    const save = control.repo.saveSnapshots.bind(control.repo);
    const writes: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => { releaseFirst = r; });
    vi.spyOn(control.repo, 'saveSnapshots').mockImplementation(async (batch: ApplianceSnapshot[]) => {
      const kinds = batch.flatMap((s) => (s.routeLog ?? []).map((e) => (e.full ? 'full' : 'delta')));
      writes.push(`start ${kinds}`);
      if (writes.length === 1) await firstHeld; // the full set's write is slow (a big table, a busy database)
      await save(batch);
      writes.push(`end ${kinds}`);
    });
    const first = control.flush();
    await vi.waitFor(() => expect(writes).toEqual(['start full']));
    const next = [...set, { prefix: '10.0.1.0/24', asPathLength: 1 }];
    control.fleet.applyReport(a, report({ seq: 2, prefixes: { kind: 'delta', baseHash: routeSetHash(set), hash: routeSetHash(next), announced: [next[1]], withdrawn: [] } }), Date.now());
    const second = control.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(writes).toEqual(['start full']); // the delta waits behind the full set
    releaseFirst();
    await Promise.all([first, second]);
    expect(writes).toEqual(['start full', 'end full', 'start delta', 'end delta']);
    expect((await control.repo.routeLog()).map((r) => r.full)).toEqual([true, false]);
  } finally {
    vi.restoreAllMocks();
    await control.close();
  }
});
