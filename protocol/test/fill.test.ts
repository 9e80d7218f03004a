import { describe, expect, it } from 'vitest';
import {
  FillManifest, fillSourceUrl, fillWindowState, generatePeerSigningKey, isTimeZone, signPeerToken, verifyPeerToken,
} from '../index.ts';

const utc = (iso: string) => Date.parse(iso);

describe('fill window', () => {
  const cases: [string, { timeZone: string; start: string; end: string }, string, boolean, string | null][] = [
    // name, window, now (UTC), open, next boundary (UTC)
    ['inside the default window, London winter', { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, '2026-12-01T03:00:00Z', true, '2026-12-01T14:00:00Z'],
    ['before it opens', { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, '2026-12-01T01:30:00Z', false, '2026-12-01T02:00:00Z'],
    ['after it closes: opens tomorrow', { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, '2026-12-01T15:00:00Z', false, '2026-12-02T02:00:00Z'],
    ['London summer time is UTC+1', { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, '2026-07-01T01:30:00Z', true, '2026-07-01T13:00:00Z'],
    ['Tokyo local time', { timeZone: 'Asia/Tokyo', start: '02:00', end: '14:00' }, '2026-12-01T16:59:00Z', false, '2026-12-01T17:00:00Z'],
    ['wrapping window, late evening', { timeZone: 'UTC', start: '22:00', end: '06:00' }, '2026-12-01T23:00:00Z', true, '2026-12-02T06:00:00Z'],
    ['wrapping window, early morning', { timeZone: 'UTC', start: '22:00', end: '06:00' }, '2026-12-01T05:00:00Z', true, '2026-12-01T06:00:00Z'],
    ['wrapping window, midday', { timeZone: 'UTC', start: '22:00', end: '06:00' }, '2026-12-01T12:00:00Z', false, '2026-12-01T22:00:00Z'],
    ['start equal to end is all day', { timeZone: 'UTC', start: '00:00', end: '00:00' }, '2026-12-01T12:00:00Z', true, null],
    ['end is exclusive', { timeZone: 'UTC', start: '02:00', end: '14:00' }, '2026-12-01T14:00:00Z', false, '2026-12-02T02:00:00Z'],
  ];
  it.each(cases)('%s', (_name, w, now, open, boundary) => {
    const s = fillWindowState(w, utc(now));
    expect(s.open).toBe(open);
    expect(s.forced).toBe(false);
    const next = open ? s.closesAt : s.opensAt;
    expect(next === null ? null : new Date(next).toISOString()).toBe(boundary === null ? null : new Date(boundary).toISOString());
  });

  it('an operator force opens a closed window until its deadline only', () => {
    const w = { timeZone: 'UTC', start: '02:00', end: '14:00' };
    const now = utc('2026-12-01T15:00:00Z');
    expect(fillWindowState(w, now, now + 60_000)).toEqual({ open: true, forced: true, opensAt: null, closesAt: now + 60_000 });
    expect(fillWindowState(w, now, now - 1).open).toBe(false);
  });

  it('knows real time zones only', () => {
    expect(isTimeZone('America/Sao_Paulo')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('peer tokens', () => {
  const key = generatePeerSigningKey('p1');
  const keys = { p1: key.x };
  const now = 1_800_000_000;
  const token = signPeerToken(key, { exp: now + 3600, sub: 'app-a', sites: ['lon1', 'ix-lon'] });

  it('is accepted by an appliance of a listed site and by the origin', () => {
    const ok = verifyPeerToken(token, keys, { siteId: 'lon1', nowSec: now });
    expect(ok).toMatchObject({ ok: true, payload: { sub: 'app-a', sites: ['lon1', 'ix-lon'] } });
    expect(verifyPeerToken(token, keys, { siteId: null, nowSec: now }).ok).toBe(true);
  });

  const other = generatePeerSigningKey('p1');
  const [body, sig] = token.split('.');
  const forgedBody = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), sites: ['par1'] })).toString('base64url');
  const refusals: [string, string, Record<string, string>, string | null, number, string][] = [
    ['another site', token, keys, 'par1', now, 'wrong-site'],
    ['expired', token, keys, 'lon1', now + 3600, 'expired'],
    ['unknown key id', token, { p2: key.x }, 'lon1', now, 'unknown-key'],
    ['signed by another key', signPeerToken(other, { exp: now + 60, sub: 'x', sites: ['lon1'] }), keys, 'lon1', now, 'bad-signature'],
    ['payload edited, signature kept', `${forgedBody}.${sig}`, keys, 'par1', now, 'bad-signature'],
    ['garbage', 'not-a-token', keys, 'lon1', now, 'malformed'],
    ['two dots', `${token}.x`, keys, 'lon1', now, 'malformed'],
    ['a viewer URL token shape', `${body}.${'A'.repeat(43)}`, keys, 'lon1', now, 'malformed'],
    ['a bad public key', token, { p1: 'AAAA' }, 'lon1', now, 'unknown-key'],
  ];
  it.each(refusals)('refuses %s', (_n, t, k, siteId, nowSec, reason) => {
    expect(verifyPeerToken(t, k, { siteId, nowSec })).toEqual({ ok: false, reason });
  });
});

describe('fill manifest', () => {
  const sources = [
    { id: 'app-b', level: 'peer' as const, baseUrl: 'http://127.0.0.1:9001' },
    { id: 'origin', level: 'origin' as const, baseUrl: 'http://127.0.0.1:8090/' },
  ];
  it('spells source URLs: peers on the peer path, the origin on its direct path', () => {
    expect(fillSourceUrl(sources[0], 't1.v720')).toBe('http://127.0.0.1:9001/v1/peer/f/t1.v720');
    expect(fillSourceUrl(sources[1], 't1.v720')).toBe('http://127.0.0.1:8090/v1/f/t1.v720');
  });
  it('validates a manifest and rejects a bad window', () => {
    const m = {
      version: 'v1', applianceId: 'app-a', siteId: 'lon1', region: 'gb', generatedAt: 1,
      window: { timeZone: 'Europe/London', start: '02:00', end: '14:00' }, fillNowUntil: null,
      rateLimitBps: 1e9, peerServeRateBps: 0, escalation: { peerMs: 30_000, tierMs: 60_000, allowOrigin: true },
      peer: { token: 'a.b', publicKeys: { p1: 'x' } }, sources,
      files: [{ fileId: 't1.v720', bytes: 10, sha256: 'a'.repeat(64), kind: 'video', rank: 0, tier: 'ssd', sources: ['app-b', 'origin'] }],
    };
    expect(FillManifest.safeParse(m).success).toBe(true);
    expect(FillManifest.safeParse({ ...m, window: { ...m.window, start: '24:00' } }).success).toBe(false);
  });
});
