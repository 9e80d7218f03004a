// The storage seam's contract, run against both stores: the embedded SQLite one and PostgreSQL (a
// real server, control/test/postgres.ts). What control relies on — a token enrolls once, absent
// snapshot parts are kept, the stream limit counts live sessions, popularity merges by decay —
// must hold whichever store is configured.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgRepository } from '../src/store/pg-repository.ts';
import type { Repository, SessionRow } from '../src/store/repository.ts';
import { SqliteRepository } from '../src/store/sqlite-repository.ts';
import { startPostgres } from './postgres.ts';
import type { TestPostgres } from './postgres.ts';

const DAY = 86_400_000;
let pg: TestPostgres;
beforeAll(async () => { pg = await startPostgres(); });
afterAll(async () => { await pg?.stop(); });

const backends: Array<[string, () => Promise<Repository>]> = [
  ['sqlite', async () => new SqliteRepository(':memory:')],
  ['postgres', async () => PgRepository.open({ url: await pg.database(), poolSize: 4 })],
];

const site = (siteId: string, region = 'eu') => ({ siteId, kind: 'embedded' as const, region, timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } });
const session = (sessionId: string, accountId: string, at: number, device = sessionId): SessionRow => ({
  sessionId, accountId, profileId: 'p1', titleId: 't1', device, clientIp: '192.0.2.1', startedAt: at, lastHeartbeatAt: at,
  endedAt: null, positionMs: 0, delivery: '{}',
});

describe.each(backends)('repository (%s)', (_name, open) => {
  let repo: Repository;
  beforeAll(async () => {
    repo = await open();
    await repo.putSite(site('s1'));
    await repo.addEnrollmentToken('tok', 's1', 1000);
    const r = await repo.enroll('tok', undefined, { applianceId: 'a1', name: 'box1', publicUrl: 'http://box1', createdAt: 5, credentialHash: 'cred1' }, 10);
    expect(r).toEqual({ ok: true, siteId: 's1' });
  });
  afterAll(async () => { await repo?.close(); });

  it('sites: insert, update, list', async () => {
    await repo.putSite(site('s2', 'us'));
    await repo.putSite({ ...site('s2', 'eu'), kind: 'ix' });
    expect(await repo.getSite('s2')).toEqual({ ...site('s2', 'eu'), kind: 'ix' });
    expect((await repo.listSites()).map((s) => s.siteId)).toEqual(['s1', 's2']);
    expect(await repo.getSite('nope')).toBeUndefined();
  });

  it('enrollment: a token works once, for its site, before it expires', async () => {
    const a = (id: string) => ({ applianceId: id, name: id, publicUrl: `http://${id}`, createdAt: 1, credentialHash: `cred-${id}` });
    await repo.addEnrollmentToken('t-exp', 's1', 100);
    await repo.addEnrollmentToken('t-site', 's1', 1000);
    expect(await repo.enroll('tok', undefined, a('x1'), 10)).toEqual({ ok: false, reason: 'used' });
    expect(await repo.enroll('t-none', undefined, a('x2'), 10)).toEqual({ ok: false, reason: 'unknown' });
    expect(await repo.enroll('t-exp', undefined, a('x3'), 100)).toEqual({ ok: false, reason: 'expired' });
    expect(await repo.enroll('t-site', 's2', a('x4'), 10)).toEqual({ ok: false, reason: 'wrong-site' });
    expect(await repo.listAppliances()).toEqual([{
      applianceId: 'a1', siteId: 's1', name: 'box1', publicUrl: 'http://box1', createdAt: 5, operatorDrain: false, snapshot: null, inventory: null, routes: null,
    }]);
  });

  it('snapshots: absent parts are left as they are; drain is kept apart', async () => {
    await repo.saveSnapshots([{ applianceId: 'a1', state: '{"n":1}', inventory: 'i-1' }]);
    await repo.saveSnapshots([{ applianceId: 'a1', state: '{"n":2}' }]);
    expect(await repo.setOperatorDrain('a1', true)).toBe(true);
    expect(await repo.setOperatorDrain('none', true)).toBe(false);
    const [row] = await repo.listAppliances();
    expect([row.snapshot, row.inventory, row.operatorDrain]).toEqual(['{"n":2}', 'i-1', true]);
  });

  it('route log: entries in the order written; a full set drops the appliance\'s earlier ones, bytes intact', async () => {
    const e = (full: boolean, ...b: number[]) => ({ full, body: Buffer.from(b) });
    await repo.putSite(site('s9'));
    await repo.addEnrollmentToken('tok9', 's9', 1000);
    await repo.enroll('tok9', 's9', { applianceId: 'a9', name: 'box9', publicUrl: 'http://box9', createdAt: 5, credentialHash: 'cred9' }, 10);
    await repo.saveSnapshots([{ applianceId: 'a1', state: '{}', routeLog: [e(true, 1), e(false, 2)] }, { applianceId: 'a9', state: '{}', routeLog: [e(false, 0, 255)] }]);
    await repo.saveSnapshots([{ applianceId: 'a1', state: '{}', routeLog: [e(false, 3), e(false, 4)] }]);
    const log = async () => (await repo.routeLog()).map((r) => [r.applianceId, r.full, [...r.body]]);
    expect(await log()).toEqual([['a1', true, [1]], ['a1', false, [2]], ['a9', false, [0, 255]], ['a1', false, [3]], ['a1', false, [4]]]);
    await repo.saveSnapshots([{ applianceId: 'a1', state: '{}', routeLog: [e(true, 5), e(false, 6)] }]);
    expect(await log()).toEqual([['a9', false, [0, 255]], ['a1', true, [5]], ['a1', false, [6]]]);
    // an appliance the store has no row for fails nothing (the others' writes in the batch stand)
    await repo.saveSnapshots([{ applianceId: 'ghost', state: '{}', routeLog: [e(true, 7)] }, { applianceId: 'a9', state: '{}', routeLog: [e(true, 8)] }]);
    expect((await log()).slice(-2)).toEqual([['ghost', true, [7]], ['a9', true, [8]]]);
  });

  it('titles: keys are replaced with the title, bytes intact', async () => {
    const key = (kid: string, b: number) => ({ kid, titleId: 't1', label: 'hd', sealed: Buffer.from([b, 0, 255, b]) });
    await repo.putTitle({ titleId: 't1', name: 'One', regions: ['eu'], manifest: '{"m":1}' }, [key('k1', 1), key('k2', 2)], 1);
    await repo.putTitle({ titleId: 't1', name: 'One again', regions: [], manifest: '{"m":2}' }, [key('k3', 3)], 2);
    expect(await repo.getTitle('t1')).toEqual({ titleId: 't1', name: 'One again', regions: [], manifest: '{"m":2}' });
    expect(await repo.keysOfTitle('t1')).toEqual([key('k3', 3)]);
    expect(await repo.listTitles()).toHaveLength(1);
  });

  it('accounts and profiles, oldest profile first', async () => {
    await repo.addAccount({ accountId: 'acc1', name: 'A', plan: 'basic', region: 'eu', status: 'active' }, 'atok');
    for (const p of ['pz', 'pa', 'pm']) await repo.addProfile({ profileId: p, accountId: 'acc1', name: p });
    expect(await repo.accountByToken('atok')).toEqual({ accountId: 'acc1', name: 'A', plan: 'basic', region: 'eu', status: 'active' });
    expect((await repo.listProfiles('acc1')).map((p) => p.profileId)).toEqual(['pz', 'pa', 'pm']);
    expect(await repo.getProfile('pa')).toEqual({ profileId: 'pa', accountId: 'acc1', name: 'pa' });
    await expect(repo.addProfile({ profileId: 'px', accountId: 'no-such-account', name: 'x' })).rejects.toThrow();
  });

  it('sessions: the limit counts live ones; silence, an end or pruning frees a slot; heartbeats keep the resume position', async () => {
    const t = 1_000_000;
    expect(await repo.startSession(session('s-a', 'acc2', t, 'tv'), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
    expect(await repo.startSession(session('s-b', 'acc2', t + 1, 'phone'), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
    expect(await repo.startSession(session('s-c', 'acc2', t + 2), 2, t - 100)).toEqual({ ok: false, devices: ['tv', 'phone'] });
    await repo.heartbeat('s-b', t + 50, 42_000, 3000, 8000);
    expect(await repo.resumePosition('p1', 't1')).toBe(42_000);
    // s-a silent since t: no longer live from t+1 on
    expect(await repo.startSession(session('s-d', 'acc2', t + 60), 2, t + 1)).toEqual({ ok: true, positionMs: 42_000 }); // p1 left t1 there
    const live = await repo.listLiveSessions(t + 1, 10);
    expect(live.map((s) => s.sessionId)).toEqual(['s-d', 's-b']);
    expect(live[1]).toMatchObject({ bitrateKbps: 3000, bufferMs: 8000, positionMs: 42_000, lastHeartbeatAt: t + 50 });
    await repo.endSession('s-d', t + 70);
    expect((await repo.getSession('s-d'))!.endedAt).toBe(t + 70);
    expect(await repo.startSession(session('s-e', 'acc2', t + 80), 2, t + 1)).toEqual({ ok: true, positionMs: 42_000 });
    expect(await repo.pruneSessions(t + 75)).toBe(3); // s-a and s-b silent since before, s-d ended before
    expect(await repo.getSession('s-a')).toBeUndefined();
    expect(await repo.getSession('s-e')).toBeDefined();
  });

  it('starts asked for at once: the limit holds among them, and one that fails (a taken id) fails alone', async () => {
    const t = 2_000_000;
    const [limited, taken] = await Promise.all([
      Promise.allSettled([
        repo.startSession(session('s-f', 'acc3', t, 'tv'), 2, t - 100),
        repo.startSession(session('s-g', 'acc3', t + 1, 'phone'), 2, t - 100),
        repo.startSession(session('s-h', 'acc3', t + 2, 'tablet'), 2, t - 100),
      ]),
      Promise.allSettled([
        repo.startSession(session('s-i', 'acc4', t, 'tv'), 9, t - 100),
        repo.startSession(session('s-i', 'acc4', t + 1, 'again'), 9, t - 100),
      ]),
    ]);
    // PostgreSQL may run them in any order; whichever came first holds the slot or the id
    const answers = limited.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
    expect(answers.filter((a) => a.ok === true)).toHaveLength(2);
    expect(answers.filter((a) => a.ok === false).map((a) => a.devices.length)).toEqual([2]);
    expect(taken.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(taken.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))).toEqual([{ ok: true, positionMs: 42_000 }]);
    expect((await repo.listLiveSessions(t - 100, 10)).map((s) => s.accountId).sort()).toEqual(['acc3', 'acc3', 'acc4']);
  });

  it('a start begins at the resume position, read as it is stored; a lapsed session a heartbeat revives counts again; an earlier liveSince is counted exactly', async () => {
    const t = 3_000_000;
    await repo.addAccount({ accountId: 'acc5', name: 'five', plan: 'standard', region: 'eu', status: 'active' }, 'tok5');
    await repo.addProfile({ profileId: 'p5', accountId: 'acc5', name: 'p5' });
    const s5 = (id: string, at: number, titleId = 't5') => ({ ...session(id, 'acc5', at), profileId: 'p5', titleId });
    expect(await repo.startSession(s5('s-5a', t), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
    await repo.heartbeat('s-5a', t + 10, 61_000, 3000, 8000);
    // the same profile and title again: from where the first left off; another title from 0
    expect(await repo.startSession(s5('s-5b', t + 20), 2, t - 100)).toEqual({ ok: true, positionMs: 61_000 });
    expect((await repo.getSession('s-5b'))!.positionMs).toBe(61_000);
    expect(await repo.startSession(s5('s-5c', t + 30, 't6'), 2, t - 100)).toEqual({ ok: false, devices: ['s-5a', 's-5b'] });
    // both silent for a minute by t + 60_000; a heartbeat on s-5a after that makes it live again
    const m = t + 60_000;
    expect(await repo.startSession(s5('s-5d', m, 't6'), 2, m - 100)).toEqual({ ok: true, positionMs: 0 });
    await repo.heartbeat('s-5a', m + 1, 62_000, 3000, 8000);
    expect(await repo.startSession(s5('s-5e', m + 2), 2, m - 100)).toEqual({ ok: false, devices: ['s-5a', 's-5d'] });
    // counted from further back (a clock set back): s-5b is live again for that count
    expect(await repo.startSession(s5('s-5f', m + 3), 3, t - 100)).toEqual({ ok: false, devices: ['s-5a', 's-5b', 's-5d'] });
    await repo.endSession('s-5a', m + 4);
    expect(await repo.startSession(s5('s-5g', m + 5), 2, m - 100)).toEqual({ ok: true, positionMs: 62_000 });
    expect(await repo.startSession(s5('s-5h', m + 6), 2, m - 100)).toEqual({ ok: false, devices: ['s-5d', 's-5g'] });
  });

  it('popularity merges by decay, in any order', async () => {
    const rows = async () => Object.fromEntries((await repo.listPopularity()).map((r) => [`${r.region}/${r.fileId}`, r]));
    await repo.addViews([{ region: 'eu', fileId: 'f', views: 8, at: 0 }], 7 * DAY);
    await repo.addViews([{ region: 'eu', fileId: 'f', views: 1, at: 7 * DAY }, { region: 'us', fileId: 'f', views: 2, at: 7 * DAY }], 7 * DAY);
    await repo.addViews([{ region: 'eu', fileId: 'f', views: 2, at: 0 }], 7 * DAY); // late: decayed to the stored time
    const r = await rows();
    expect(r['eu/f'].views).toBeCloseTo(6, 9);
    expect(r['eu/f'].at).toBe(7 * DAY);
    expect(r['us/f'].views).toBeCloseTo(2, 9);
  });

  it('promotions, peer keys, fill overrides, image targets', async () => {
    await repo.putPromotion({ titleId: 't1', regions: ['eu'], expectedViews: 50, releaseAt: 9 }, 1);
    expect(await repo.listPromotions()).toEqual([{ titleId: 't1', regions: ['eu'], expectedViews: 50, releaseAt: 9 }]);
    expect(await repo.deletePromotion('t1')).toBe(true);
    expect(await repo.deletePromotion('t1')).toBe(false);

    expect(await repo.addPeerKey({ kid: 'p1', x: 'x1', d: 'd1', createdAt: 1 })).toEqual([{ kid: 'p1', x: 'x1', d: 'd1', createdAt: 1 }]);
    expect(await repo.addPeerKey({ kid: 'p1', x: 'x2', d: 'd2', createdAt: 2 })).toEqual([{ kid: 'p1', x: 'x1', d: 'd1', createdAt: 1 }]);

    await repo.putSiteFill({ siteId: 's1', rateLimitBps: 1e9, peerServeRateBps: null, fillNowUntil: 1_800_000_000_000 });
    expect(await repo.listSiteFill()).toEqual([{ siteId: 's1', rateLimitBps: 1e9, peerServeRateBps: null, fillNowUntil: 1_800_000_000_000 }]);
    await repo.setApplianceFillNow('a1', 77);
    await repo.setApplianceFillNow('a1', null);
    expect(await repo.listApplianceFillNow()).toEqual([{ applianceId: 'a1', fillNowUntil: null }]);

    await repo.setImageTarget('s1', { version: '1.2', manifestUrl: 'http://m', updatedAt: 3 });
    expect(await repo.imageTarget('s1')).toEqual({ version: '1.2', manifestUrl: 'http://m', updatedAt: 3 });
    await repo.setImageTarget('s1', null);
    expect(await repo.imageTarget('s1')).toBeNull();
    await repo.saveApplianceImage({ applianceId: 'a1', status: 'st', history: 'h', turnup: null });
    await repo.saveApplianceImage({ applianceId: 'a1', status: null, history: null, turnup: 'tu' });
    expect(await repo.applianceImage('a1')).toEqual({ applianceId: 'a1', status: 'st', history: 'h', turnup: 'tu' });
  });

  it('credentials: rotation offers a next one that replaces the current; revocation refuses and drains', async () => {
    await repo.addEnrollmentToken('tok-r', 's1', 1000);
    await repo.enroll('tok-r', 's1', { applianceId: 'a2', name: 'box2', publicUrl: 'http://box2', createdAt: 1, credentialHash: 'c-old' }, 10);
    expect(await repo.authenticateCredential('c-old')).toEqual({ applianceId: 'a2', state: 'current', rotateRequested: false });
    expect(await repo.requestCredentialRotation('a2', 20)).toBe(true);
    await repo.offerNextCredential('a2', 'c-new');
    expect(await repo.authenticateCredential('c-new')).toEqual({ applianceId: 'a2', state: 'next', rotateRequested: true });
    await repo.promoteNextCredential('a2');
    expect(await repo.authenticateCredential('c-old')).toBeUndefined();
    expect(await repo.authenticateCredential('c-new')).toEqual({ applianceId: 'a2', state: 'current', rotateRequested: false });
    expect(await repo.revokeCredential('a2', 30)).toBe(true);
    expect(await repo.revokeCredential('a2', 31)).toBe(false);
    expect(await repo.authenticateCredential('c-new')).toEqual({ applianceId: 'a2', state: 'revoked', rotateRequested: false });
    expect((await repo.listAppliances()).find((x) => x.applianceId === 'a2')!.operatorDrain).toBe(true);
    expect(await repo.pruneEnrollmentTokens(11)).toBeGreaterThanOrEqual(2); // 'tok' and 'tok-r' were used at 10
  });

  it('URL-token keys: insert once, oldest activation first, delete', async () => {
    await repo.addUrlTokenKey({ kid: 'k2', secret: 's2', createdAt: 2, activeFrom: 20 });
    await repo.addUrlTokenKey({ kid: 'k1', secret: 's1', createdAt: 1, activeFrom: 0 });
    await repo.addUrlTokenKey({ kid: 'k1', secret: 'other', createdAt: 3, activeFrom: 0 });
    expect((await repo.listUrlTokenKeys()).map((k) => [k.kid, k.secret])).toEqual([['k1', 's1'], ['k2', 's2']]);
    await repo.deleteUrlTokenKey('k1');
    expect((await repo.listUrlTokenKeys()).map((k) => k.kid)).toEqual(['k2']);
  });

  it('TLS certificates: sealed key bytes intact, replaced by fingerprint, oldest upload first, delete once', async () => {
    const cert = (fingerprint: string, uploadedAt: number, sealed: number[]) => ({
      fingerprint, certPem: `-----BEGIN CERTIFICATE-----\n${fingerprint}\n-----END CERTIFICATE-----\n`, keySealed: Buffer.from(sealed),
      hosts: ['edge.example.net', '192.0.2.1'], notBefore: 1_000, notAfter: 2_000_000_000_000, uploadedAt,
    });
    await repo.putTlsCertificate(cert('BB', 20, [0, 255, 1]));
    await repo.putTlsCertificate(cert('AA', 10, [9]));
    await repo.putTlsCertificate(cert('BB', 30, [7, 0, 7]));
    const list = await repo.listTlsCertificates();
    expect(list.map((c) => [c.fingerprint, c.uploadedAt, [...c.keySealed]])).toEqual([['AA', 10, [9]], ['BB', 30, [7, 0, 7]]]);
    expect(list[1]).toMatchObject({ hosts: ['edge.example.net', '192.0.2.1'], notBefore: 1_000, notAfter: 2_000_000_000_000 });
    expect(await repo.deleteTlsCertificate('AA')).toBe(true);
    expect(await repo.deleteTlsCertificate('AA')).toBe(false);
    expect((await repo.listTlsCertificates()).map((c) => c.fingerprint)).toEqual(['BB']);
  });
});

describe('SQLite: the stream limit after a restart', () => {
  it('sessions started before the file was reopened count against the limit; an end after it frees a slot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgebox-repo-'));
    const path = join(dir, 'control.db');
    try {
      const t = 1_000_000;
      const first = new SqliteRepository(path);
      await first.addAccount({ accountId: 'acc1', name: 'one', plan: 'standard', region: 'eu', status: 'active' }, 'tok1');
      await first.addProfile({ profileId: 'p1', accountId: 'acc1', name: 'p1' });
      expect(await first.startSession(session('s-1', 'acc1', t, 'tv'), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
      await first.close();
      const second = new SqliteRepository(path);
      try {
        expect(await second.startSession(session('s-2', 'acc1', t + 1, 'phone'), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
        expect(await second.startSession(session('s-3', 'acc1', t + 2), 2, t - 100)).toEqual({ ok: false, devices: ['tv', 'phone'] });
        await second.endSession('s-1', t + 3);
        expect(await second.startSession(session('s-4', 'acc1', t + 4, 'laptop'), 2, t - 100)).toEqual({ ok: true, positionMs: 0 });
        expect(await second.startSession(session('s-5', 'acc1', t + 5), 2, t - 100)).toEqual({ ok: false, devices: ['phone', 'laptop'] });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL: migrations and the change feed between two instances', () => {
  it('a second open finds the schema current; each instance reads what the other wrote, not its own', async () => {
    const url = await pg.database();
    const [r1, r2] = await Promise.all([PgRepository.open({ url, poolSize: 3 }), PgRepository.open({ url, poolSize: 3 })]);
    try {
      const since = await r2.changeVersion();
      let noticed = 0;
      const stop = await r2.watchChanges(() => { noticed++; });
      await r1.putSite(site('s1'));
      await r1.addEnrollmentToken('tok', 's1', 1000);
      await r1.enroll('tok', 's1', { applianceId: 'a1', name: 'box1', publicUrl: 'http://box1', createdAt: 1, credentialHash: 'c1' }, 10);
      await r1.saveSnapshots([{ applianceId: 'a1', state: '{"n":1}', inventory: 'inv', routeLog: [{ full: true, body: Buffer.from([1, 2]) }] }]);
      await r1.putTitle({ titleId: 't1', name: 'T', regions: [], manifest: '{}' }, [], 1);
      await r1.putSiteFill({ siteId: 's1', rateLimitBps: 5e8, peerServeRateBps: null, fillNowUntil: 99 });
      await r1.setApplianceFillNow('a1', 77);

      const ch = await r2.changesSince(since);
      expect(ch.sites.map((s) => s.siteId)).toEqual(['s1']);
      expect(ch.titles.map((t) => t.titleId)).toEqual(['t1']);
      expect(ch.appliances).toMatchObject([{ applianceId: 'a1', snapshot: '{"n":1}', inventory: 'inv', routes: null }]);
      expect(ch.routeLog).toEqual([{ applianceId: 'a1', full: true, body: Buffer.from([1, 2]) }]);
      expect(ch.siteFill).toEqual([{ siteId: 's1', rateLimitBps: 5e8, peerServeRateBps: null, fillNowUntil: 99 }]);
      expect(ch.applianceFillNow).toEqual([{ applianceId: 'a1', fillNowUntil: 77 }]);
      expect(ch.version).toBeGreaterThan(since);
      // nothing new past that version; the writer does not read its own rows back
      const none = { version: ch.version, sites: [], titles: [], appliances: [], routeLog: [], siteFill: [], applianceFillNow: [] };
      expect(await r2.changesSince(ch.version)).toEqual(none);
      expect(await r1.changesSince(since)).toMatchObject({ appliances: [], routeLog: [], siteFill: [], applianceFillNow: [] });
      // a state-only write does not carry the inventory again
      await r1.saveSnapshots([{ applianceId: 'a1', state: '{"n":2}' }]);
      expect((await r2.changesSince(ch.version)).appliances).toMatchObject([{ snapshot: '{"n":2}', inventory: null }]);
      for (let i = 0; i < 500 && noticed === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(noticed).toBeGreaterThan(0);
      await stop();
    } finally {
      await r1.close();
      await r2.close();
    }
  });

  it('a state from an older report written after a newer one leaves the newer in place, so the other instance still reads it', async () => {
    const url = await pg.database();
    const [r1, r2] = await Promise.all([PgRepository.open({ url, poolSize: 2 }), PgRepository.open({ url, poolSize: 2 })]);
    try {
      await r1.putSite(site('s1'));
      await r1.addEnrollmentToken('tok', 's1', 1000);
      await r1.enroll('tok', 's1', { applianceId: 'a1', name: 'box1', publicUrl: 'http://box1', createdAt: 1, credentialHash: 'c1' }, 10);
      const state = (bootId: string, seq: number, pastBoots: string[] = [], lastReportAt = seq) => JSON.stringify({ bootId, seq, pastBoots, lastReportAt });
      // the box reported 7 to r2 and then 8 to r1; r2's write of 7 commits last
      await r1.saveSnapshots([{ applianceId: 'a1', state: state('b1', 8) }]);
      const since = await r2.changeVersion();
      await r2.saveSnapshots([{ applianceId: 'a1', state: state('b1', 7) }]);
      // the row keeps r1's state, still r1's: r2 reads it
      expect((await r2.changesSince(0)).appliances).toMatchObject([{ applianceId: 'a1', snapshot: state('b1', 8) }]);
      expect((await r2.changesSince(since)).appliances).toEqual([]);
      // a later report in the same boot, or a new boot that knows the old one, does replace it
      await r2.saveSnapshots([{ applianceId: 'a1', state: state('b1', 9) }]);
      expect((await r1.changesSince(0)).appliances).toMatchObject([{ snapshot: state('b1', 9) }]);
      await r1.saveSnapshots([{ applianceId: 'a1', state: state('b2', 1, ['b1'], 1) }]);
      expect((await r2.changesSince(0)).appliances).toMatchObject([{ snapshot: state('b2', 1, ['b1'], 1) }]);
      // the old boot's late write does not bring it back
      await r2.saveSnapshots([{ applianceId: 'a1', state: state('b1', 10, [], 100) }]);
      expect((await r2.changesSince(0)).appliances).toMatchObject([{ snapshot: state('b2', 1, ['b1'], 1) }]);
    } finally {
      await r1.close();
      await r2.close();
    }
  });
});
