// The peer credential check and the peer rate limit, as units with an injected clock; the same
// table runs against a real daemon in peer-serving.test.ts.
import { describe, expect, it } from 'vitest';
import { generatePeerSigningKey, signPeerToken, signToken } from '../../../protocol/index.ts';
import { CHUNK_BYTES } from '../../src/http/disk-reader.ts';
import { PeerGate } from '../../src/http/peer-gate.ts';
import { PeerPacer } from '../../src/http/peer-pacer.ts';
import { ServeMetrics } from '../../src/http/serve-metrics.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const key = generatePeerSigningKey('p1');
const other = generatePeerSigningKey('p1'); // same key id, another key: a forgery
const config = { siteId: 'lon-1', publicKeys: { [key.kid]: key.x } };
const bearer = (t: string) => `Bearer ${t}`;
const peerToken = (o: Partial<{ exp: number; sites: string[] }> = {}, k = key) =>
  signPeerToken(k, { exp: NOW + 600, sub: 'app-2', sites: ['lon-1'], ...o });

describe('peer gate', () => {
  const cases: [string, string | undefined, string][] = [
    ['valid', bearer(peerToken()), 'ok'],
    ['valid for several sites', bearer(peerToken({ sites: ['ix-1', 'lon-1'] })), 'ok'],
    ['expired', bearer(peerToken({ exp: NOW - 1 })), 'expired'],
    ['for another site', bearer(peerToken({ sites: ['par-1'] })), 'wrong-site'],
    ['forged (another key under the same id)', bearer(peerToken({}, other)), 'bad-signature'],
    ['signed by a key we were not given', bearer(peerToken({}, generatePeerSigningKey('p9'))), 'unknown-key'],
    ['a viewer URL token as the credential', bearer(signToken({ kid: 'k1', secret: 'test-secret-0123456789', exp: NOW + 600, title: 't1' })), 'malformed'],
    ['no Authorization header', undefined, 'missing'],
    ['not a Bearer credential', `Basic ${Buffer.from('a:b').toString('base64')}`, 'missing'],
  ];
  it.each(cases)('%s → %s', (_name, header, want) => {
    const g = new PeerGate({ now: () => NOW_MS });
    g.setConfig(config);
    const r = g.check(header);
    expect(r.ok ? 'ok' : r.reason).toBe(want);
  });

  it('answers no-keys (503) before the first manifest, whatever the token', () => {
    const g = new PeerGate({ now: () => NOW_MS });
    expect(g.check(bearer(peerToken()))).toEqual({ ok: false, reason: 'no-keys' });
  });

  it('caches a verified token until it expires, and forgets it when keys or site change', () => {
    let now = NOW_MS;
    const g = new PeerGate({ now: () => now });
    g.setConfig(config);
    const t = bearer(peerToken({ exp: NOW + 10 }));
    expect(g.check(t).ok).toBe(true);
    expect(g.cached).toBe(1);
    now += 11_000;
    expect(g.check(t)).toEqual({ ok: false, reason: 'expired' });
    expect(g.cached).toBe(0);
    now = NOW_MS;
    expect(g.check(t).ok).toBe(true);
    g.setConfig({ ...config }); // the same keys and site: the cache stays
    expect(g.cached).toBe(1);
    g.setConfig({ siteId: 'par-1', publicKeys: config.publicKeys });
    expect(g.cached).toBe(0);
    expect(g.check(t)).toEqual({ ok: false, reason: 'wrong-site' });
  });
});

describe('peer pacer', () => {
  it('lets a burst through, then lets writes run up a quantum of debt and waits for all of it', () => {
    let now = 0;
    const m = new ServeMetrics();
    const p = new PeerPacer(m, () => now);
    expect(p.hooks).toBeUndefined(); // unlimited: no hooks, nothing paced
    p.setRate(100_000);
    expect(p.hooks).toBeDefined();
    expect(p.take(CHUNK_BYTES)).toBeUndefined(); // the bucket starts full
    // in debt, but less than a quantum (here one chunk): paced bytes, no wait yet
    expect(p.take(50_000)).toBeUndefined();
    expect(m.peerPacedBytes).toBe(50_000);
    expect(m.peerPacingSeconds).toBe(0);
    // the debt reaches the quantum: this write waits until all of it is paid
    const debt = 50_000 + CHUNK_BYTES;
    expect(p.take(CHUNK_BYTES)).toBeInstanceOf(Promise);
    expect(m.peerPacingSeconds).toBeCloseTo(debt / 100_000, 5);
    // a second writer queues behind that debt
    p.take(50_000);
    expect(m.peerPacingSeconds).toBeCloseTo(debt / 100_000 + (debt + 50_000) / 100_000, 5);
    // once the debt has been paid and the bucket refilled, writes go straight through again
    now += ((debt + 50_000 + CHUNK_BYTES) / 100_000) * 1000;
    expect(p.take(CHUNK_BYTES)).toBeUndefined();
    expect(m.peerPacedBytes).toBe(debt + 50_000);
  });

  it('at rate 0 never delays', () => {
    const m = new ServeMetrics();
    const p = new PeerPacer(m, () => 0);
    p.setRate(0);
    for (let i = 0; i < 10; i++) expect(p.take(CHUNK_BYTES)).toBeUndefined();
    expect(m.peerPacedBytes).toBe(0);
  });
});
