import { describe, expect, it } from 'vitest';
import { signToken } from '../../../protocol/index.ts';
import { TokenGate } from '../../src/http/token-gate.ts';

const keys = { k1: 'secret-secret-secret' };
let nowMs = 1_800_000_000_000;
const sec = () => Math.floor(nowMs / 1000);

describe('TokenGate', () => {
  it('caches a verified signature but still enforces expiry, scope and client per request', () => {
    const gate = new TokenGate({ keys, now: () => nowMs });
    const t = signToken({ kid: 'k1', secret: keys.k1, exp: sec() + 10, title: 'a', cidr: '10.0.0.0/8' });
    expect(gate.check(t, 'a.v1', '10.1.2.3').ok).toBe(true);
    expect(gate.check(t, 'a.v2', '10.9.9.9').ok).toBe(true); // cached, other file of the title
    expect(gate.check(t, 'b.v1', '10.1.2.3')).toEqual({ ok: false, reason: 'out-of-scope' });
    expect(gate.check(t, 'a.v1', '192.0.2.1')).toEqual({ ok: false, reason: 'wrong-client' });
    nowMs += 10_000;
    expect(gate.check(t, 'a.v1', '10.1.2.3')).toEqual({ ok: false, reason: 'expired' });
  });

  it('never caches failures, and forgets keys it no longer holds', () => {
    const gate = new TokenGate({ keys, now: () => nowMs });
    const t = signToken({ kid: 'k1', secret: keys.k1, exp: sec() + 60, title: 'a' });
    expect(gate.check(undefined, 'a.v1', undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(gate.check(t + 'x', 'a.v1', undefined)).toEqual({ ok: false, reason: 'malformed' });
    expect(gate.check(t, 'a.v1', undefined).ok).toBe(true);
    gate.setKeys({ k2: 'another-secret-value' });
    expect(gate.check(t, 'a.v1', undefined)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('stays bounded: the oldest verification is dropped when full', () => {
    const gate = new TokenGate({ keys, now: () => nowMs, cacheSize: 2 });
    const tokens = [1, 2, 3].map((i) => signToken({ kid: 'k1', secret: keys.k1, exp: sec() + 60, title: 'a', sid: `s${i}` }));
    for (const t of tokens) expect(gate.check(t, 'a.v1', undefined).ok).toBe(true);
    expect(gate.cached).toBe(2);
    // all still valid (an evicted one is simply verified again)
    for (const t of tokens) expect(gate.check(t, 'a.v1', undefined).ok).toBe(true);
  });
});
