// Fill downloads against real HTTP sources on loopback, into a real store: verified and
// published; a corrupt source is reported and the next one used; a source that dies mid-file is
// resumed from where it stopped with Range; errors escalate.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestsFor, manifest, startSource, testFile, TOKEN } from './helpers/source-server.ts';
import { until, useRig } from './helpers/engine.ts';

const rig = useRig();
const KiB = 1024;

describe('fill downloads', () => {
  it('fetches the wanted files most popular first, verifies and publishes them, and presents the peer token', async () => {
    const files = [testFile('t1.a', 700 * KiB), testFile('t1.b', 3 * 1024 * KiB), testFile('t1.c', 10 * KiB)];
    const peer = await startSource('p1', 'peer', new Map(files.map((f) => [f.fileId, f.data])));
    rig.sources.push(peer);
    const { store, engine } = await rig.open({ settings: { downloadsPerSsd: 1 } });
    engine.setManifest(manifest({
      files: files.map((f, i) => ({ ...f, sources: ['p1'], rank: [2, 0, 1][i] })),
      sources: [peer.source()],
    }));
    engine.start();
    await until('all three held', () => files.every((f) => store.has(f.fileId, f.sha256)));
    for (const f of files) expect(Buffer.compare(await readFile(store.get(f.fileId)!.path), f.data)).toBe(0);
    // one at a time (downloadsPerSsd: 1), in rank order
    expect(peer.requests.map((r) => r.fileId)).toEqual(['t1.b', 't1.c', 't1.a']);
    expect(peer.requests.every((r) => r.authorization === `Bearer ${TOKEN}` && r.range === undefined)).toBe(true);
    expect(store.get('t1.b')!.rank).toBe(0);
    const total = files.reduce((n, f) => n + f.data.length, 0);
    expect(engine.report()).toMatchObject({
      wantedFiles: 3, wantedBytes: total, heldBytes: total, blocked: null, active: false,
      bytesBySource: { peer: total, tier: 0, origin: 0 }, failuresBySource: { peer: 0, tier: 0, origin: 0 }, badSources: [],
    });
    expect(await readdir(join(store.roots[0].path, '.tmp'))).toEqual([]);
  });

  it('a source serving corrupt bytes is reported and excluded; the next source fills the file', async () => {
    const f = testFile('t1.a', 512 * KiB);
    const bad = await startSource('p-bad', 'peer', new Map([[f.fileId, f.data]]), { flip: true });
    const ix = await startSource('ix1', 'tier', new Map([[f.fileId, f.data]]));
    rig.sources.push(bad, ix);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p-bad', 'ix1'] }], sources: [bad.source(), ix.source()] }));
    engine.start();
    await until('held', () => store.has(f.fileId, f.sha256));
    expect(Buffer.compare(await readFile(store.get(f.fileId)!.path), f.data)).toBe(0);
    expect(requestsFor(bad, f.fileId)).toHaveLength(1); // not tried again for this file
    // the good source was asked for the whole file again: the bad bytes were thrown away
    expect(requestsFor(ix, f.fileId).map((r) => r.range)).toEqual([undefined]);
    const report = engine.report();
    expect(report.badSources).toEqual([{ sourceId: 'p-bad', fileId: f.fileId, reason: 'sha256_mismatch', at: expect.any(Number) }]);
    expect(report.failuresBySource).toEqual({ peer: 1, tier: 0, origin: 0 });
    expect(report.bytesBySource).toEqual({ peer: f.data.length, tier: f.data.length, origin: 0 });
    expect(engine.status().failedBytesBySource.peer).toBe(f.data.length);
  });

  it('a source killed mid-file: the next source is asked for the rest with Range, and only the rest is transferred', async () => {
    const f = testFile('t1.a', 4 * 1024 * KiB);
    const dying = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { dieAfter: 1536 * KiB });
    const ix = await startSource('ix1', 'tier', new Map([[f.fileId, f.data]]));
    rig.sources.push(dying, ix);
    const { store, engine } = await rig.open();
    const resets: number[] = [];
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1', 'ix1'] }], sources: [dying.source(), ix.source()], escalation: { peerMs: 200 } }));
    const dl = engine.fetchNow(f.fileId)!;
    dl.on('reset', () => resets.push(dl.written));
    const stored = await dl.done;
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    const [first] = requestsFor(dying, f.fileId);
    expect(first).toMatchObject({ range: undefined, sent: 1536 * KiB });
    const [second] = requestsFor(ix, f.fileId);
    const start = Number(/^bytes=(\d+)-$/.exec(second.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(first.sent);
    expect(second).toMatchObject({ status: 206, sent: f.data.length - start });
    expect(resets).toEqual([]);
    expect(engine.report().badSources[0]).toMatchObject({ sourceId: 'p1', reason: 'unreachable' });
  });

  it('a connection cut mid-body is retried on the same source from where it stopped', async () => {
    const f = testFile('t1.a', 2 * 1024 * KiB);
    const flaky = await startSource('o', 'origin', new Map([[f.fileId, f.data]]), { cutAfter: 700 * KiB });
    rig.sources.push(flaky);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['o'] }], sources: [flaky.source()] }));
    const stored = await engine.fetchNow(f.fileId)!.done;
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    const [first, second] = requestsFor(flaky, f.fileId);
    const start = Number(/^bytes=(\d+)-$/.exec(second.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(first.sent);
    expect(second.sent).toBe(f.data.length - start);
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    // both tries' time is accounted for, and the waits are parts of it
    const p = engine.status().pipeline;
    expect(p.fetchSeconds).toBeGreaterThan(0);
    expect(p.sourceWaitSeconds + p.storeWaitSeconds).toBeLessThanOrEqual(p.fetchSeconds);
    // the store wait is split into its writes' part and its hash's part, nothing else
    expect(p.storeWriteWaitSeconds + p.storeHashWaitSeconds).toBeCloseTo(p.storeWaitSeconds, 9);
    expect(p.hashThread.busySeconds).toBeGreaterThan(0);
    expect(p.hashThread.cpuSeconds).toBeGreaterThanOrEqual(0);
  });

  it('HTTP errors escalate: a 404 peer and a 503 tier, then the origin; a source ignoring Range is skipped past what is held', async () => {
    const f = testFile('t1.a', 256 * KiB);
    const missing = await startSource('p1', 'peer', new Map());
    const busy = await startSource('ix1', 'tier', new Map([[f.fileId, f.data]]), { status: 503 });
    const origin = await startSource('origin', 'origin', new Map([[f.fileId, f.data]]), { ignoreRange: true });
    rig.sources.push(missing, busy, origin);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({
      files: [{ ...f, sources: ['p1', 'ix1', 'origin'] }], sources: [missing.source(), busy.source(), origin.source()],
      escalation: { peerMs: 100, tierMs: 100 },
    }));
    await engine.fetchNow(f.fileId)!.done;
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    expect(requestsFor(missing, f.fileId)).toHaveLength(1); // 404: not tried again
    expect(requestsFor(busy, f.fileId).length).toBeGreaterThanOrEqual(1); // 503: retried while the tier had time
    const reasons = engine.report().badSources.map((b) => `${b.sourceId}:${b.reason}`);
    expect(reasons).toContain('p1:http_error');
    expect(reasons).toContain('ix1:http_error');
    expect(engine.report().bytesBySource.origin).toBe(f.data.length);
  });

  it('a source whose file has the wrong size is reported (size_mismatch) before anything is written', async () => {
    const f = testFile('t1.a', 100 * KiB);
    const other = testFile('t1.a', 90 * KiB);
    const wrong = await startSource('p1', 'peer', new Map([[f.fileId, other.data]]));
    const good = await startSource('origin', 'origin', new Map([[f.fileId, f.data]]));
    rig.sources.push(wrong, good);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1', 'origin'] }], sources: [wrong.source(), good.source()] }));
    await engine.fetchNow(f.fileId)!.done;
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    expect(engine.report().badSources.map((b) => `${b.sourceId}:${b.reason}`)).toEqual(['p1:size_mismatch']);
  });

  it('every source failing gives the download up (no_sources), keeps the partial, and a later try resumes it', async () => {
    const f = testFile('t1.a', 1024 * KiB);
    const cut = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { cutAfter: 300 * KiB, status: undefined });
    rig.sources.push(cut);
    const { store, engine } = await rig.open({ settings: { originMs: 0 } });
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [cut.source()], escalation: { peerMs: 0 } }));
    // first try cut at 300 KiB; a one-try peer level and no other source: given up
    const err = await engine.fetchNow(f.fileId)!.done.catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('no_sources');
    const partials = await store.partials();
    expect(partials).toHaveLength(1);
    expect(partials[0].bytes).toBeGreaterThan(0);
    // the next try resumes the partial
    const stored = await engine.fetchNow(f.fileId)!.done;
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    const [, second] = requestsFor(cut, f.fileId);
    expect(second.range).toBe(`bytes=${partials[0].bytes}-`);
  });

  it('a stale partial (left by an earlier attempt, wrong bytes) is thrown away without blaming the source', async () => {
    const f = testFile('t1.a', 600 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    const stale = await store.stage(f.fileId, { bytes: f.data.length, sha256: f.sha256, kind: 'video' });
    await stale.append([Buffer.alloc(100 * KiB, 7)]);
    await stale.abort({ keepPartial: true });
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    const dl = engine.fetchNow(f.fileId)!;
    let resets = 0;
    dl.on('reset', () => resets++);
    const stored = await dl.done;
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    expect(requestsFor(peer, f.fileId).map((r) => r.range)).toEqual([`bytes=${100 * KiB}-`, undefined]);
    expect(resets).toBe(1);
    expect(engine.report().badSources).toEqual([]);
  });
});
