// How fill reads a source: http: bodies on a plain socket into large buffers (bulk-get.ts), a
// chunked body through undici instead, a body ended by the close, and the shared rate limit charged
// per batch — a rate-limited download sleeps about once per batch, not once per socket read.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { systemFillClock, type FillClock } from '../../src/fill/clock.ts';
import { batchFor, WRITE_BATCH, WRITE_DEPTH } from '../../src/fill/source-fetch.ts';
import { until, useRig } from './helpers/engine.ts';
import type { FillEngine } from '../../src/fill/engine.ts';
import { manifest, requestsFor, startSource, testFile, type Behaviour, type SourceServer } from './helpers/source-server.ts';

const rig = useRig();
const MiB = 1 << 20;

describe('reading a source', () => {
  /** One file from one peer behaving so; resolves once it is held and read back byte-exact. */
  async function fillFrom(behaviour: Behaviour): Promise<{ peer: SourceServer; engine: FillEngine; fileId: string }> {
    const f = testFile('t1.a', 3 * MiB + 123);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), behaviour);
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    engine.start();
    await until('held', () => store.has(f.fileId, f.sha256));
    expect(Buffer.compare(await readFile(store.get(f.fileId)!.path), f.data)).toBe(0);
    return { peer, engine, fileId: f.fileId };
  }

  it('a chunked body is fetched byte-exact (asked again through undici)', async () => {
    const { engine } = await fillFrom({ framing: 'chunked' });
    expect(engine.report().badSources).toEqual([]);
  });

  it('a body ended by the close is fetched byte-exact, and resumed with Range after a cut', async () => {
    const { peer, fileId } = await fillFrom({ framing: 'close', cutAfter: MiB });
    // a cut close-framed body looks like its end: the size check catches it, and the rest is asked for
    const asked = requestsFor(peer, fileId).map((r) => r.range);
    expect(asked[0]).toBeUndefined();
    expect(asked.at(-1)).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('a rate-limited download waits about once per batch of the rate, not per socket read', async () => {
    const f = testFile('t1.a', 6 * MiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    let sleeps = 0;
    const counting: FillClock = { ...systemFillClock, sleep: (ms, signal) => (sleeps++, systemFillClock.sleep(ms, signal)) };
    const { store, engine } = await rig.open({ clock: counting, settings: { tickMs: 3_600_000 } });
    const rateBps = 80_000_000; // 10 MB/s: 400 kB batches
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], rateLimitBps: rateBps }));
    const stored = await engine.fetchNow(f.fileId)!.done;
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    const batch = batchFor(rateBps / 8);
    expect(batch).toBe(400_000);
    // one wait at most per batch (plus the first, partial one); 64 KiB reads would have made ~96
    expect(sleeps).toBeGreaterThan(0);
    expect(sleeps).toBeLessThanOrEqual(Math.ceil(f.data.length / batch) + 1);
  });

  it('batches: unlimited is WRITE_BATCH; a limit gets about 40 ms of its rate, within bounds', () => {
    expect(batchFor(0)).toBe(WRITE_BATCH);
    expect(batchFor(117e6)).toBe(WRITE_BATCH);
    expect(batchFor(10e6)).toBe(400_000);
    expect(batchFor(100_000)).toBe(64 << 10);
  });
  it('while every write slot is taken, a slow source\'s pieces gather into one write instead of queueing one by one', async () => {
    const f = testFile('t1.a', 3 * MiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { dribble: 64 << 10 });
    rig.sources.push(peer);
    // a clock that stands still: only a full batch, or "the source has nothing more for now"
    // while a slot is free, writes (unlimited rate: a full batch is 4 MiB)
    const still: FillClock = { ...systemFillClock, now: () => 0 };
    const { store, engine } = await rig.open({ clock: still, settings: { tickMs: 3_600_000 } });
    // the store's first WRITE_DEPTH appends are held (a busy disk) until the source has sent 2 MiB
    const sizes: number[] = [];
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const stage = store.stage.bind(store);
    store.stage = async (...args: Parameters<typeof store.stage>) => {
      const staged = await stage(...args);
      const append = staged.append.bind(staged);
      staged.append = (chunks, timing) => {
        sizes.push(chunks.reduce((n, c) => n + c.byteLength, 0));
        const done = append(chunks, timing);
        return sizes.length <= WRITE_DEPTH ? gate.then(() => done) : done;
      };
      return staged;
    };
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    const dl = engine.fetchNow(f.fileId)!;
    await until('the source sent 2 MiB while the slots were taken', () => (requestsFor(peer, f.fileId)[0]?.sent ?? 0) >= 2 * MiB);
    expect(sizes).toHaveLength(WRITE_DEPTH);
    openGate();
    await dl.done;
    expect(Buffer.compare(await readFile(store.get(f.fileId)!.path), f.data)).toBe(0);
    // what came while the slots were taken went in one write, not one 64 KiB piece per write
    const held = sizes.slice(0, WRITE_DEPTH).reduce((a, b) => a + b, 0);
    expect(sizes[WRITE_DEPTH]).toBeGreaterThanOrEqual(2 * MiB - held - 256 * 1024);
  });

  it('bytes that came before a source stalls are written at once, not held back for the next chunk', async () => {
    const f = testFile('t1.a', 3 * MiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { holdAfter: 500_000 });
    rig.sources.push(peer);
    // a clock that stands still: no batch ever gets FLUSH_MS old, so only "the source has nothing
    // more for now" can write these bytes (unlimited rate: a full batch is 4 MiB)
    const still: FillClock = { ...systemFillClock, now: () => 0 };
    const { store, engine } = await rig.open({ clock: still, settings: { tickMs: 3_600_000 } });
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    const dl = engine.fetchNow(f.fileId)!;
    await until('the 500 kB before the stall are in the partial', () => dl.written === 500_000);
    peer.release();
    await dl.done;
    expect(store.has(f.fileId, f.sha256)).toBe(true);
  });
});
