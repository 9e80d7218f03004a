// The main thread's relay between workers' misses and the fill engine's one download per file,
// against a scripted Download (the daemon tests in miss-fill.test.ts use the real engine).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { FillFile } from '../../../protocol/index.ts';
import type { MainToWorker } from '../../src/http/worker-messages.ts';
import type { Download, FillHandle } from '../../src/fill/fill-handle.ts';
import { MissCoalescer } from '../../src/fill/miss-coalescer.ts';
import type { StoredFile } from '../../src/store/store.ts';

const SHA = 'ab'.repeat(32);
const FILE: FillFile = { fileId: 't1.v', bytes: 1000, sha256: SHA, kind: 'video', rank: 0, tier: 'ssd', sources: ['origin'] };

function scripted() {
  let finish!: (ok: boolean) => void;
  const dl = Object.assign(new EventEmitter(), {
    fileId: FILE.fileId, bytes: FILE.bytes, path: '', written: 0, source: null,
    done: new Promise<StoredFile>((resolve, reject) => (finish = (ok) => (ok ? resolve({} as StoredFile) : reject(new Error('bad'))))),
  }) as unknown as Download & EventEmitter & { path: string; written: number };
  return { dl, finish };
}

function setup(o: { held?: boolean; wanted?: boolean } = {}) {
  const { dl, finish } = scripted();
  let fetches = 0;
  const fill = {
    manifest: null,
    wanted: (id: string) => (o.wanted !== false && id === FILE.fileId ? FILE : undefined),
    fetchNow: () => (fetches++, dl),
  } as unknown as FillHandle;
  const sent: [number, MainToWorker][] = [];
  const c = new MissCoalescer({ fill: () => fill, held: () => o.held === true, post: (w, m) => sent.push([w, m]), now: () => 1_700_000_000_000 });
  return { c, dl, finish, sent, fetches: () => fetches };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('miss coalescer', () => {
  it('not wanted, or no fill engine: answers not-wanted and starts nothing', () => {
    const s = setup({ wanted: false });
    s.c.ask(0, 1, FILE.fileId);
    expect(s.sent).toEqual([[0, { type: 'miss:answer', id: 1, answer: { kind: 'not-wanted' } }]]);
    expect(s.fetches()).toBe(0);
    const none = new MissCoalescer({ fill: () => null, held: () => false, post: (w, m) => s.sent.push([w, m]) });
    none.ask(1, 2, FILE.fileId);
    expect(s.sent[1]).toEqual([1, { type: 'miss:answer', id: 2, answer: { kind: 'not-wanted' } }]);
  });

  it('a file the store holds by now: answers held', () => {
    const s = setup({ held: true });
    s.c.ask(0, 1, FILE.fileId);
    expect(s.sent[0][1]).toEqual({ type: 'miss:answer', id: 1, answer: { kind: 'held' } });
    expect(s.fetches()).toBe(0);
  });

  it('every ask for one file shares one fetchNow; progress, reset and end reach every worker following it, in order', async () => {
    const s = setup();
    s.c.ask(0, 1, FILE.fileId);
    s.c.ask(1, 1, FILE.fileId);
    s.c.ask(1, 2, FILE.fileId);
    expect(s.fetches()).toBe(1);
    const answer = s.sent[0][1] as Extract<MainToWorker, { type: 'miss:answer' }>;
    expect(answer.answer.kind).toBe('filling');
    if (answer.answer.kind === 'filling') {
      expect(answer.answer.file).toMatchObject({ fileId: FILE.fileId, bytes: 1000, etag: `"${SHA.slice(0, 32)}"`, tier: 'ssd' });
    }
    s.sent.length = 0;
    // many progress events in one turn: one message per worker, with the latest values
    s.dl.path = '/store/.tmp/t1.v.partial';
    for (const w of [100, 200, 300]) {
      s.dl.written = w;
      s.dl.emit('progress', w);
    }
    await tick();
    expect(s.sent).toEqual([
      [0, { type: 'miss:progress', fileId: FILE.fileId, path: '/store/.tmp/t1.v.partial', written: 300 }],
      [1, { type: 'miss:progress', fileId: FILE.fileId, path: '/store/.tmp/t1.v.partial', written: 300 }],
    ]);
    s.sent.length = 0;
    s.dl.written = 0;
    s.dl.emit('reset');
    s.c.forget(1); // worker 1 died
    s.finish(true);
    await tick();
    expect(s.sent).toEqual([
      [0, { type: 'miss:reset', fileId: FILE.fileId }],
      [1, { type: 'miss:reset', fileId: FILE.fileId }],
      [0, { type: 'miss:end', fileId: FILE.fileId, ok: true }],
    ]);
    expect(s.c.active).toBe(0);
  });

  it('a failed download ends with ok false', async () => {
    const s = setup();
    s.c.ask(0, 1, FILE.fileId);
    s.finish(false);
    await tick();
    expect(s.sent.at(-1)).toEqual([0, { type: 'miss:end', fileId: FILE.fileId, ok: false }]);
  });
});
