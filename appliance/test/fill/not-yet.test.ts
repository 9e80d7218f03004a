// A peer or tier source control lists before it holds the file (a planned holder, the file's
// `notYet`): its 404 means "not yet". The engine fills other files meanwhile and comes back,
// backing off, and escalates only once the level's time (escalation.peerMs) has passed since the
// file's first try there — on a virtual clock, against real sources and a real store. A miss
// does not wait for such sources.

import { describe, expect, it } from 'vitest';
import type { FillSource } from '../../../protocol/index.ts';
import { Escalation, newEscalationMemory, type NextStep } from '../../src/fill/escalation.ts';
import { manifest, requestsFor, startSource, testFile } from './helpers/source-server.ts';
import { until, useRig } from './helpers/engine.ts';
import { VirtualClock } from './helpers/virtual-clock.ts';
import type { FillEngine } from '../../src/fill/engine.ts';

const rig = useRig();
const KiB = 1024;
const PEER_MS = 60_000;
/** the deferral backs off 2 s, 4 s, 8 s, 16 s, then 30 s at most — never past the peer level's end */
const SETTINGS = { tickMs: 1_000, notYetRetryMs: 2_000, notYetRetryMaxMs: 30_000, downloadsPerSsd: 1 };

/** Nothing downloading, and `fileId` waiting for its sources. */
const deferred = (engine: FillEngine) => engine.status().active.length === 0 && engine.status().deferredFiles === 1;

async function setup() {
  const clock = new VirtualClock();
  const a = testFile('t1.a', 96 * KiB); // the popular file: only the first fetcher, p1, will have it
  const b = testFile('t2.a', 64 * KiB); // its first source (the origin) can serve it now
  const peerFiles = new Map<string, Buffer>();
  const peer = await startSource('p1', 'peer', peerFiles);
  const origin = await startSource('origin', 'origin', new Map([[a.fileId, a.data], [b.fileId, b.data]]));
  rig.sources.push(peer, origin);
  const { store, engine } = await rig.open({ clock, settings: SETTINGS });
  const files = [{ ...a, sources: ['p1', 'origin'], notYet: ['p1'], rank: 0 }, { ...b, sources: ['origin'], rank: 1 }];
  const m = (version: string, notYet = ['p1']) => manifest({
    version, files: [{ ...files[0], notYet }, files[1]], sources: [peer.source(), origin.source()],
    escalation: { peerMs: PEER_MS, tierMs: 0, allowOrigin: true },
  });
  const t0 = clock.t;
  engine.setManifest(m('v1'));
  engine.start();
  // the file that can be fetched now goes first; then t1.a is tried on its peer: 404, deferred
  await until('t2.a held and t1.a deferred', () => store.has(b.fileId, b.sha256) && deferred(engine));
  expect(origin.requests.map((r) => r.fileId)).toEqual([b.fileId]);
  expect(requestsFor(peer, a.fileId).map((r) => r.status)).toEqual([404]);
  return { clock, a, peer, peerFiles, origin, store, engine, m, t0 };
}

describe('a peer that does not have the file yet', () => {
  it('defers the file, backs off, and escalates to the origin only once peerMs has passed since the first try', async () => {
    const { clock, a, peer, origin, store, engine, t0 } = await setup();
    expect(engine.report().blocked).toBeNull();
    expect(engine.report().badSources).toEqual([]); // listed as notYet: its 404 is no failure
    for (const [at, tries] of [[2_000, 2], [6_000, 3], [14_000, 4], [30_000, 5]] as const) {
      await clock.run(t0 + at);
      await until(`try ${tries} of the peer at ${at / 1000} s`, () => requestsFor(peer, a.fileId).length === tries && deferred(engine));
    }
    await clock.run(t0 + PEER_MS - 1);
    await until('a few scheduler passes', () => deferred(engine));
    expect(requestsFor(origin, a.fileId)).toEqual([]);
    expect(requestsFor(peer, a.fileId)).toHaveLength(5);

    await clock.run(t0 + PEER_MS);
    await until('t1.a held', () => store.has(a.fileId, a.sha256));
    // one last try of the peer, then the origin
    expect(requestsFor(peer, a.fileId).map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(requestsFor(origin, a.fileId).map((r) => r.status)).toEqual([200]);
    expect(engine.status()).toMatchObject({
      deferredFiles: 0, notYetBySource: { peer: 6, tier: 0, origin: 0 }, failuresBySource: { peer: 0, tier: 0, origin: 0 },
      bytesBySource: { peer: 0, origin: a.data.length + 64 * KiB },
    });
  });

  it('takes the file from the peer once it has it, before peerMs, and never from the origin', async () => {
    const { clock, a, peer, peerFiles, origin, store, engine, t0 } = await setup();
    await clock.run(t0 + 2_000);
    await until('second try of the peer', () => requestsFor(peer, a.fileId).length === 2 && deferred(engine));
    peerFiles.set(a.fileId, a.data); // the first fetcher got it
    await clock.run(t0 + 6_000);
    await until('t1.a held', () => store.has(a.fileId, a.sha256));
    expect(requestsFor(peer, a.fileId).map((r) => r.status)).toEqual([404, 404, 200]);
    expect(requestsFor(origin, a.fileId)).toEqual([]);
    expect(engine.report().bytesBySource.peer).toBe(a.data.length);
  });

  it('a manifest saying the peer holds it now ends the wait at once', async () => {
    const { a, peer, peerFiles, store, engine, m } = await setup();
    peerFiles.set(a.fileId, a.data);
    engine.setManifest(m('v2', [])); // no clock movement: the new manifest alone starts it again
    await until('t1.a held', () => store.has(a.fileId, a.sha256));
    expect(requestsFor(peer, a.fileId).map((r) => r.status)).toEqual([404, 200]);
  });

  it('a miss does not wait: it skips the sources marked notYet', async () => {
    const { a, peer, origin, engine } = await setup();
    // the virtual clock does not move: nothing waits
    await engine.fetchNow(a.fileId)!.done;
    expect(requestsFor(peer, a.fileId)).toHaveLength(1); // the scheduled try only
    expect(requestsFor(origin, a.fileId).map((r) => r.status)).toEqual([200]);
  });
});

describe('Escalation with memory (a deferred file)', () => {
  const src = (id: string, level: FillSource['level']): FillSource => ({ id, level, baseUrl: `http://${id}.test` });
  const SOURCES = [src('p1', 'peer'), src('ix1', 'tier'), src('origin', 'origin')];

  it("a level's time runs from the file's first try there, across downloads; deferrals back off up to the level's end", () => {
    let t = 0;
    const memory = newEscalationMemory();
    const opts = { now: () => t, retryMs: 1_000, originMs: 5_000, notYetRetryMs: 2_000, notYetRetryMaxMs: 8_000, memory };
    const policy = { peerMs: 20_000, tierMs: 10_000, allowOrigin: true };
    /** one download: try sources that all say "not yet" until it defers or escalates to the origin */
    const download = (): NextStep[] => {
      const e = new Escalation(SOURCES, policy, opts);
      const steps: NextStep[] = [];
      for (;;) {
        const s = e.next();
        steps.push(s);
        if (s.kind !== 'try' || s.source.level === 'origin') return steps;
        e.notYet(s.source.id);
      }
    };
    const names = (steps: NextStep[]) => steps.map((s) => (s.kind === 'try' ? s.source.id : s.kind === 'defer' ? `defer ${s.ms}` : s.kind));
    const log: string[] = [];
    for (;;) {
      const steps = download();
      log.push(`${t}: ${names(steps).join(' ')}`);
      const last = steps.at(-1)!;
      if (last.kind !== 'defer') break;
      t += last.ms;
    }
    expect(log).toEqual([
      '0: p1 defer 2000',
      '2000: p1 defer 4000',
      '6000: p1 defer 8000',
      '14000: p1 defer 6000', // the backoff's 8 s would pass the peer level's end at 20 s
      '20000: p1 ix1 defer 8000', // the tier's time starts now
      '28000: p1 ix1 defer 2000',
      '30000: p1 ix1 origin',
    ]);
  });

  it('giveUpNotYet (the download became a miss): the sources that said not yet are dropped at once', () => {
    const e = new Escalation(SOURCES, { peerMs: 60_000, tierMs: 60_000, allowOrigin: true }, { now: () => 0, retryMs: 1_000, originMs: 1_000 });
    const s = e.next();
    expect(s.kind === 'try' && s.source.id).toBe('p1');
    e.notYet('p1');
    expect(e.next().kind).toBe('defer');
    e.giveUpNotYet();
    const n = e.next();
    expect(n.kind === 'try' && n.source.id).toBe('ix1');
  });
});
