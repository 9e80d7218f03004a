// The scheduler against real sources and a real store: the window (and the operator's "fill
// now"), one download per file shared by misses, eviction only after replacement and never of a
// file being read, and a full store that blocks fill.

import { open, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { closedWindow, manifest, requestsFor, startSource, testFile } from './helpers/source-server.ts';
import { passes, until, useRig } from './helpers/engine.ts';
import { VirtualClock } from './helpers/virtual-clock.ts';
import { viewOf } from '../store/helpers.ts';

const rig = useRig();
const KiB = 1024;


describe('fill window', () => {
  it('outside the window nothing is fetched; the operator forcing fill (fillNowUntil) fetches it', async () => {
    const f = testFile('t1.a', 64 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    const base = { files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], window: closedWindow() };
    engine.setManifest(manifest({ ...base, version: 'v1' }));
    engine.start();
    await passes(engine, 5);
    expect(peer.requests).toEqual([]);
    expect(engine.report()).toMatchObject({ inWindow: false, active: false, heldBytes: 0, wantedBytes: f.data.length });
    expect(engine.status().window).toMatchObject({ open: false, forced: false, opensAt: expect.any(Number) });

    engine.setManifest(manifest({ ...base, version: 'v2', fillNowUntil: Date.now() + 600_000 }));
    await until('held', () => store.has(f.fileId, f.sha256));
    expect(engine.report().inWindow).toBe(true);
    expect(engine.status().window).toMatchObject({ open: true, forced: true });
  });

  it('the window closing stops a scheduled download and keeps its partial; the next opening resumes it', async () => {
    const f = testFile('t1.a', 1024 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    // 2 Mb/s: the 1 MiB file takes about four seconds, long enough to close the window on it
    const base = { files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], window: closedWindow(), rateLimitBps: 2_000_000 };
    engine.setManifest(manifest({ ...base, version: 'v1', fillNowUntil: Date.now() + 600_000 }));
    engine.start();
    await until('some bytes written', () => (engine.status().active[0]?.written ?? 0) > 0);
    engine.setManifest(manifest({ ...base, version: 'v2' })); // the operator's forcing ends
    await until('download stopped', () => engine.status().active.length === 0);
    const [partial] = await store.partials();
    expect(partial.bytes).toBeGreaterThan(0);
    expect(store.has(f.fileId)).toBe(false);

    engine.setManifest(manifest({ ...base, version: 'v3', fillNowUntil: Date.now() + 600_000, rateLimitBps: 0 }));
    await until('held', () => store.has(f.fileId, f.sha256));
    expect(Buffer.compare(await readFile(store.get(f.fileId)!.path), f.data)).toBe(0);
    expect(requestsFor(peer, f.fileId)[1].range).toBe(`bytes=${partial.bytes}-`);
  });
});

describe('misses share the one download', () => {
  it('fetchNow outside the window starts one download; a second miss joins it; readers of the partial keep their bytes after the commit', async () => {
    const f = testFile('t1.a', 2 * 1024 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], window: closedWindow(), rateLimitBps: 8_000_000 }));
    engine.start();
    expect(engine.wanted('t1.a')).toMatchObject({ bytes: f.data.length, sha256: f.sha256 });
    expect(engine.wanted('t1.nope')).toBeUndefined();
    expect(engine.fetchNow('t1.nope')).toBeUndefined();

    const dl = engine.fetchNow(f.fileId)!;
    const seen: number[] = [];
    dl.on('progress', (w) => seen.push(w));
    await until('first bytes', () => dl.written > 0);
    expect(dl.path).toMatch(/\.tmp\/t1\.a\.partial$/);
    const reader = await open(dl.path, 'r'); // a viewer streaming from the partial
    expect(engine.fetchNow(f.fileId)).toBe(dl);
    expect(engine.status().active).toMatchObject([{ fileId: f.fileId, urgent: true, source: { id: 'p1', level: 'peer' } }]);
    const stored = await dl.done;
    expect(stored.path).not.toBe(dl.path);
    expect(Buffer.compare(await reader.readFile(), f.data)).toBe(0); // same inode, renamed into place
    await reader.close();
    expect(seen.every((w, i) => i === 0 || w >= seen[i - 1])).toBe(true);
    expect(seen.at(-1)).toBe(f.data.length);
    expect(requestsFor(peer, f.fileId)).toHaveLength(1);
    // held now: fetchNow answers at once
    const again = engine.fetchNow(f.fileId)!;
    expect(again.written).toBe(f.data.length);
    expect((await again.done).path).toBe(stored.path);
  });

  it('a miss for a file the schedule is already fetching joins that download', async () => {
    const f = testFile('t1.a', 1024 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], rateLimitBps: 4_000_000 }));
    engine.start();
    await until('scheduled download running', () => engine.status().active.length === 1);
    expect(engine.status().active[0].urgent).toBe(false);
    const dl = engine.fetchNow(f.fileId)!;
    expect(engine.status().active[0].urgent).toBe(true);
    await dl.done;
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    expect(requestsFor(peer, f.fileId)).toHaveLength(1);
  });
});

describe('a miss never joins a stopping download', () => {
  it('fetchNow in the same tick as the stop starts a fresh download after it, which resumes the partial and serves the viewer', async () => {
    const f = testFile('t1.a', 1024 * KiB);
    // the first request sends 256 KiB and then holds: the scheduled download is mid-file
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]), { holdAfter: 256 * KiB });
    rig.sources.push(peer);
    // a clock nobody moves: no tick runs the scheduler behind the test's back
    const clock = new VirtualClock();
    const { store, engine } = await rig.open({ clock });
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    engine.start();
    await until('scheduled download has bytes', () => (engine.status().active[0]?.written ?? 0) > 0);
    expect(engine.status().active[0].urgent).toBe(false);

    // control goes away: scheduled fill stops now (synchronously, in this pass); a viewer's miss
    // arrives in the same tick, while the stopped download has not ended yet
    engine.setPaused(true);
    const dl = engine.fetchNow(f.fileId)!;
    expect(engine.status().active).toMatchObject([{ fileId: f.fileId, urgent: true }]);
    const stored = await dl.done; // the stopping download would reject 'stopped' (a 503)
    expect(Buffer.compare(await readFile(stored.path), f.data)).toBe(0);
    expect(store.has(f.fileId, f.sha256)).toBe(true);
    // the fresh download took over the stopped one's partial, not the file from zero
    const reqs = requestsFor(peer, f.fileId);
    expect(reqs).toHaveLength(2);
    expect(reqs[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    peer.release();
  });
});

describe('eviction', () => {
  it('files the manifest dropped stay until their replacements are in, and a file being read is never evicted', async () => {
    const f = testFile('t2.new', 512 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    for (const id of ['t1.old', 't1.read']) {
      const o = testFile(id, 32 * KiB);
      await store.put(id, [o.data], { bytes: o.data.length, sha256: o.sha256, kind: 'video', rank: 5 });
    }
    const view = viewOf(store);
    const release = view.pin(view.get('t1.read')!);
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()], rateLimitBps: 2_000_000 }));
    expect(store.get('t1.old')!.rank).toBeNull(); // the manifest's ranks replace the old ones
    engine.start();
    await until('downloading', () => (engine.status().active[0]?.written ?? 0) > 0);
    expect(store.has('t1.old') && store.has('t1.read')).toBe(true);
    await until('replacement in', () => store.has(f.fileId, f.sha256));
    await until('t1.old evicted', () => !store.has('t1.old'));
    await passes(engine);
    expect(store.has('t1.read')).toBe(true); // still being read
    release();
    await until('t1.read evicted once unread', () => !store.has('t1.read'));
    view.detach();
  });

  it('room held by unwanted files that are being read is waited for, not reported as a full disk', async () => {
    // a re-plan moves t1.a and t1.b to a newcomer, which fills them from this box (reads pin
    // them) while this box needs their room for its own new file
    const f = testFile('t2.new', 100 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open({ ssdMaxBytes: 250 * KiB });
    for (const id of ['t1.a', 't1.b']) {
      const o = testFile(id, 100 * KiB);
      await store.put(id, [o.data], { bytes: o.data.length, sha256: o.sha256, kind: 'video' });
    }
    const view = viewOf(store);
    const releases = ['t1.a', 't1.b'].map((id) => view.pin(view.get(id)!));
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [peer.source()] }));
    engine.start();
    await passes(engine, 5);
    expect(engine.report().blocked).toBeNull();
    expect(store.has('t1.a') && store.has('t1.b')).toBe(true);
    expect(requestsFor(peer, f.fileId)).toHaveLength(0);
    // one read ends: its room goes to the wanted file at once (well inside retryMs, 60 s here)
    releases[0]();
    await until('t2.new in', () => store.has(f.fileId, f.sha256));
    expect(store.has('t1.a')).toBe(false);
    expect(engine.report().blocked).toBeNull();
    releases[1]();
    await until('t1.b evicted once unread', () => !store.has('t1.b'));
    view.detach();
  });

  it('two downloads are never promised the same room: the second waits for a read to end instead of failing NO_SPACE', async () => {
    const a = testFile('t2.a', 100 * KiB);
    const b = testFile('t2.b', 100 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[a.fileId, a.data], [b.fileId, b.data]]));
    rig.sources.push(peer);
    // room for 2.5 files; t1.u (unwanted, being read) holds one: t2.a fits, t2.b only once t1.u goes
    const { store, engine } = await rig.open({ ssdMaxBytes: 250 * KiB });
    const u = testFile('t1.u', 100 * KiB);
    await store.put(u.fileId, [u.data], { bytes: u.data.length, sha256: u.sha256, kind: 'video' });
    const view = viewOf(store);
    const release = view.pin(view.get(u.fileId)!);
    engine.setManifest(manifest({ files: [a, b].map((x) => ({ ...x, sources: ['p1'] })), sources: [peer.source()] }));
    engine.start();
    await until('t2.a in', () => store.has(a.fileId, a.sha256));
    await passes(engine, 5);
    expect(engine.report().blocked).toBeNull();
    expect(engine.status().downloadsFailed).toBe(0);
    expect(store.has(b.fileId)).toBe(false);
    release();
    await until('t2.b in', () => store.has(b.fileId, b.sha256));
    expect(store.has(u.fileId)).toBe(false);
    view.detach();
  });

  it('a disk full of wanted files blocks fill as no_space', async () => {
    const f = testFile('t2.new', 100 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[f.fileId, f.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open({ ssdMaxBytes: 250 * KiB });
    const held = ['t1.a', 't1.b'].map((id) => testFile(id, 100 * KiB));
    for (const o of held) await store.put(o.fileId, [o.data], { bytes: o.data.length, sha256: o.sha256, kind: 'video' });
    engine.setManifest(manifest({ files: [...held, f].map((x, i) => ({ ...x, rank: i + 1, sources: ['p1'] })), sources: [peer.source()] }));
    engine.start();
    await until('blocked: no_space', () => engine.report().blocked === 'no_space');
    expect(store.has('t1.a') && store.has('t1.b') && !store.has(f.fileId)).toBe(true);
  });

  it('room for a wanted file is made from unwanted files, lowest score first', async () => {
    const f = testFile('t2.new', 100 * KiB);
    const nowhere = await startSource('p1', 'peer', new Map()); // 404: the download never finishes
    rig.sources.push(nowhere);
    // room for two of the three files
    const { store, engine } = await rig.open({ ssdMaxBytes: 250 * KiB });
    for (const id of ['t1.keep', 't1.low']) {
      const o = testFile(id, 100 * KiB);
      await store.put(id, [o.data], { bytes: o.data.length, sha256: o.sha256, kind: 'video' });
    }
    store.noteDemand({ served: { 't1.keep': 300 * KiB }, hits: { 't1.keep': 3 } }); // read: scores higher
    engine.setManifest(manifest({ files: [{ ...f, sources: ['p1'] }], sources: [nowhere.source()], escalation: { peerMs: 0, allowOrigin: false } }));
    engine.start();
    // the download is given up and the file waits for retryMs: fill reports it has no source
    await until('blocked: no sources', () => engine.report().blocked === 'no_sources');
    expect(engine.status().downloadsFailed).toBe(1);
    expect(store.has('t1.low')).toBe(false);
    expect(store.has('t1.keep')).toBe(true); // the replacement never arrived: nothing more goes
  });
});
