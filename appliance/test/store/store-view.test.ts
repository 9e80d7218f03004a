// The worker side over a real worker_threads Worker: it receives the store's messages and reads
// byte-exact data from RAM (a zero-copy SharedArrayBuffer view) and from both disk tiers; its
// demand batches reach the store; removals and RAM drops reach it.

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { content, type Dirs, KiB, makeDirs, ManualClock, open, putFile, removeDirs } from './helpers.ts';

let d: Dirs;
let store: Store | undefined;
let worker: Worker | undefined;
beforeEach(async () => {
  d = await makeDirs();
});
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
  await store?.close();
  store = undefined;
  await removeDirs(d);
});

interface Reply {
  type: string;
  id: number;
  missing?: boolean;
  tier?: string;
  shared?: boolean;
  bytes?: Uint8Array;
}

let nextId = 0;
function request(w: Worker, fileId: string, start?: number, end?: number): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve) => {
    const on = (m: Reply) => {
      if (m.type === 'test:data' && m.id === id) {
        w.off('message', on);
        resolve(m);
      }
    };
    w.on('message', on);
    w.postMessage({ type: 'test:read', id, fileId, start, end });
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

it('a worker serves byte-exact data from RAM, SSD and HDD, and its demand reaches the store', async () => {
  const clock = new ManualClock();
  const SIZE = 96 * KiB;
  store = await open(d, clock, {
    roots: [
      { path: d.ssd, type: 'ssd', maxBytes: 2 * SIZE },
      { path: d.hdd, type: 'hdd' },
    ],
    ramBytes: SIZE,
    ramMaxFileBytes: SIZE,
  });
  await putFile(store, 'w1.ram', SIZE, 0); // control's top file: admitted to RAM on the next tick
  await putFile(store, 'w1.ssd', SIZE);
  await putFile(store, 'w1.hdd', SIZE);
  await clock.advance(1000);
  expect(store.get('w1.ram')).toMatchObject({ inRam: true, tier: 'ssd' });
  expect(store.get('w1.hdd')!.tier).toBe('hdd');

  worker = new Worker(new URL('./fixtures/view-worker.ts', import.meta.url));
  store.attachWorker(worker);

  const expected = (id: string) => content(id, SIZE).data;
  const ram = await request(worker, 'w1.ram');
  expect(ram).toMatchObject({ tier: 'ram', shared: true });
  expect(Buffer.from(ram.bytes!).equals(expected('w1.ram'))).toBe(true);
  const ssd = await request(worker, 'w1.ssd', 1000, 50_000);
  expect(ssd.tier).toBe('ssd');
  expect(Buffer.from(ssd.bytes!).equals(expected('w1.ssd').subarray(1000, 50_000))).toBe(true);
  const hdd = await request(worker, 'w1.hdd', SIZE - 10);
  expect(hdd.tier).toBe('hdd');
  expect(Buffer.from(hdd.bytes!).equals(expected('w1.hdd').subarray(SIZE - 10))).toBe(true);

  // the worker's demand batch (flushed every 20 ms) arrives and raises the files' demand
  await until(() => store!.get('w1.ssd')!.demand > 0, 'demand from the worker');
  expect(store.get('w1.ssd')!.demand).toBeCloseTo(49_000 / SIZE, 6);
  await until(() => store!.get('w1.hdd')!.demand > 0, 'demand for w1.hdd');

  // changes reach the worker: a removal, and a RAM drop when the file leaves RAM
  store.remove('w1.ssd');
  expect((await request(worker, 'w1.ssd')).missing).toBe(true);
  store.setPopularity({ 'w1.ram': null });
  store.setPopularity({ 'w1.hdd': 0 });
  await clock.advance(1000); // w1.hdd now outscores w1.ram, which makes room for it
  expect(store.get('w1.ram')!.inRam).toBe(false);
  expect(store.get('w1.hdd')!.inRam).toBe(true);
  const afterDrop = await request(worker, 'w1.ram');
  expect(afterDrop.tier).toBe('ssd');
  expect(Buffer.from(afterDrop.bytes!).equals(expected('w1.ram'))).toBe(true);
  const promoted = await request(worker, 'w1.hdd');
  expect(promoted.tier).toBe('ram');
  expect(Buffer.from(promoted.bytes!).equals(expected('w1.hdd'))).toBe(true);
});

it('a worker that exits with a read in flight releases its pins (its table is dropped on exit)', async () => {
  const clock = new ManualClock();
  const SIZE = 32 * KiB;
  store = await open(d, clock, { ramBytes: SIZE, ramMaxFileBytes: SIZE });
  await putFile(store, 'w2.old', SIZE, 50);
  await putFile(store, 'w2.new', SIZE);
  await clock.advance(1000);
  expect(store.get('w2.old')!.inRam).toBe(true);
  const w = new Worker(new URL('./fixtures/view-worker.ts', import.meta.url));
  worker = w;
  store.attachWorker(w);
  const pinned = once(w, 'message');
  w.postMessage({ type: 'test:pin-forever', fileId: 'w2.old' });
  await pinned;
  store.setPopularity({ 'w2.new': 0 });
  await clock.advance(1000);
  expect(store.get('w2.old')!.inRam).toBe(true); // in use by the worker
  const exited = once(w, 'exit');
  await w.terminate();
  await exited.catch(() => {});
  worker = undefined;
  await clock.advance(1000);
  expect(store.get('w2.new')!.inRam).toBe(true);
  expect(store.get('w2.old')!.inRam).toBe(false);
});
