// Escalation on a fake clock: peers for peerMs in all, then the tier for tierMs, then the origin
// (only if allowed); every source gets a try; retries wait retryMs; bad sources are dropped.

import { describe, expect, it } from 'vitest';
import type { FillSource } from '../../../protocol/index.ts';
import { Escalation, type NextStep } from '../../src/fill/escalation.ts';

const src = (id: string, level: FillSource['level']): FillSource => ({ id, level, baseUrl: `http://${id}.test` });
const SOURCES = [src('p1', 'peer'), src('p2', 'peer'), src('ix1', 'tier'), src('origin', 'origin')];

function harness(policy = { peerMs: 10_000, tierMs: 5_000, allowOrigin: true }, sources = SOURCES) {
  let t = 0;
  const esc = new Escalation(sources, policy, { now: () => t, retryMs: 1_000, originMs: 3_000 });
  /** take steps until a try; advance the clock over waits; record what was tried when */
  const log: string[] = [];
  const next = (): NextStep => {
    for (;;) {
      const s = esc.next();
      if (s.kind === 'wait') {
        t += s.ms;
        continue;
      }
      if (s.kind === 'try') log.push(`${t}:${s.source.id}`);
      else log.push(`${t}:exhausted`);
      return s;
    }
  };
  return { esc, next, log, advance: (ms: number) => (t += ms), at: () => t };
}

describe('Escalation', () => {
  it('tries every peer, retries them until peerMs is spent, then the tier, then the origin, then gives up', () => {
    const h = harness();
    let s = h.next();
    while (s.kind === 'try') {
      h.advance(400); // each try takes 400 ms to fail
      h.esc.failed(s.source.id, false);
      s = h.next();
    }
    expect(h.log).toEqual([
      '0:p1', '400:p2',
      // both tried: each is retried 1 s after its own last failure (p1 failed at 400, p2 at 800)
      '1400:p1', '1800:p2', '2800:p1', '3200:p2', '4200:p1', '4600:p2', '5600:p1', '6000:p2', '7000:p1',
      '7400:p2', '8400:p1', '8800:p2', '9800:p1',
      // 10 000 ms after the first peer try: the tier
      '10200:ix1', '11600:ix1', '13000:ix1', '14400:ix1',
      // ix1 is retryable at 15 800 but the tier's time ends at 15 200: the origin then, for originMs
      '15200:origin', '16600:origin', '18000:origin',
      // the origin's 3 s ended at 18 200, during the last try
      '18400:exhausted',
    ]);
  });

  it('skips a level with no sources, and the origin when it is not allowed', () => {
    const h = harness({ peerMs: 1_000, tierMs: 1_000, allowOrigin: false }, [src('ix1', 'tier'), src('origin', 'origin')]);
    const s = h.next();
    expect(s.kind === 'try' && s.source.id).toBe('ix1');
    h.advance(2_000);
    h.esc.failed('ix1', false);
    expect(h.next().kind).toBe('exhausted');
  });

  it('a level with zero time still gets one try of each source', () => {
    const h = harness({ peerMs: 0, tierMs: 0, allowOrigin: true });
    for (let s = h.next(); s.kind === 'try'; s = h.next()) h.esc.failed(s.source.id, false);
    expect(h.log).toEqual(['0:p1', '0:p2', '0:ix1', '0:origin', '1000:origin', '2000:origin', '3000:exhausted']);
  });

  it('a source that failed for good is not tried again; a level with none left escalates at once', () => {
    const h = harness();
    let s = h.next();
    expect(s.kind === 'try' && s.source.id).toBe('p1');
    h.esc.failed('p1', true); // served bad bytes
    s = h.next();
    expect(s.kind === 'try' && s.source.id).toBe('p2');
    h.esc.failed('p2', true);
    s = h.next();
    expect(s.kind === 'try' && s.source.id).toBe('ix1');
    expect(h.at()).toBe(0); // no waiting out the peers' time
    expect(h.esc.level).toBe('tier');
  });
});
