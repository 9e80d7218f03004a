// Fill paused while control is away (the daemon calls setPaused): inside an open window nothing
// is scheduled, a viewer's miss still fetches its file, and resuming fills the rest.

import { describe, expect, it } from 'vitest';
import { manifest, requestsFor, startSource, testFile } from './helpers/source-server.ts';
import { passes, until, useRig } from './helpers/engine.ts';

const rig = useRig();
const KiB = 1024;

describe('fill paused', () => {
  it('schedules nothing while paused, still fetches a miss, and fills the rest once resumed', async () => {
    const a = testFile('t1.a', 64 * KiB);
    const b = testFile('t1.b', 64 * KiB);
    const peer = await startSource('p1', 'peer', new Map([[a.fileId, a.data], [b.fileId, b.data]]));
    rig.sources.push(peer);
    const { store, engine } = await rig.open();
    engine.setPaused(true);
    engine.setManifest(manifest({
      files: [{ ...a, sources: ['p1'] }, { ...b, sources: ['p1'] }], sources: [peer.source()],
      fillNowUntil: Date.now() + 600_000, // the window is open: only the pause holds fill back
    }));
    engine.start();
    await passes(engine, 5);
    expect(peer.requests).toEqual([]);

    // a viewer's miss does not wait for control
    const dl = engine.fetchNow(a.fileId);
    expect(dl).toBeDefined();
    await dl!.done;
    expect(store.has(a.fileId, a.sha256)).toBe(true);
    await passes(engine, 5);
    expect(requestsFor(peer, b.fileId)).toEqual([]);

    engine.setPaused(false);
    await until('the rest filled', () => store.has(b.fileId, b.sha256));
  });
});
