// Shared by the store tests: temp roots, a manual clock, deterministic file contents.

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/store/clock.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import type { StoreOptions } from '../../src/store/options.ts';
import { WorkerStoreView } from '../../src/store/store-view.ts';
import { afterEach, beforeEach } from 'vitest';

export interface Dirs {
  base: string;
  state: string;
  ssd: string;
  hdd: string;
}

export async function makeDirs(): Promise<Dirs> {
  const base = await mkdtemp(join(tmpdir(), 'edgebox-store-'));
  return { base, state: join(base, 'state'), ssd: join(base, 'ssd'), hdd: join(base, 'hdd') };
}

export async function removeDirs(d: Dirs): Promise<void> {
  await rm(d.base, { recursive: true, force: true });
}

/**
 * Per-test fresh store roots, and the store a test opens on them, closed and removed after each
 * test. Registers its own beforeEach/afterEach; call it once at the top of a test file.
 */
export function useTempStore(): { d: Dirs; store: Store | undefined } {
  const t = { d: undefined as unknown as Dirs, store: undefined as Store | undefined };
  beforeEach(async () => {
    t.d = await makeDirs();
  });
  afterEach(async () => {
    await t.store?.close();
    t.store = undefined;
    await removeDirs(t.d);
  });
  return t;
}

/** A clock tests step by hand; advance() runs due timers in order and awaits what they return. */
export class ManualClock implements Clock {
  t = 1_800_000_000_000;
  private timers: Array<{ ms: number; next: number; fn: () => unknown }> = [];
  now(): number {
    return this.t;
  }
  every(ms: number, fn: () => unknown): () => void {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      await due.fn();
    }
    this.t = end;
  }
}

/** Deterministic bytes for a file id: different ids, different contents. */
export function content(fileId: string, bytes: number): { data: Buffer; sha256: string } {
  const data = Buffer.alloc(bytes);
  let seed = createHash('sha256').update(fileId).digest();
  for (let off = 0; off < bytes; off += seed.length) {
    seed.copy(data, off);
    seed = createHash('sha256').update(seed).digest();
  }
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

export async function putFile(store: Store, fileId: string, bytes: number, rank?: number | null) {
  const { data, sha256 } = content(fileId, bytes);
  return store.put(fileId, [data], { bytes, sha256, kind: 'video', rank });
}

export const KiB = 1024;

export function storeOptions(d: Dirs, clock: ManualClock, extra: Partial<StoreOptions> = {}): StoreOptions {
  return {
    stateDir: d.state,
    roots: [
      { path: d.ssd, type: 'ssd' },
      { path: d.hdd, type: 'hdd' },
    ],
    ramBytes: 0,
    reserveBytes: 0,
    rebalanceIntervalMs: 1000,
    clock,
    ...extra,
  };
}

export async function open(d: Dirs, clock: ManualClock, extra: Partial<StoreOptions> = {}): Promise<Store> {
  return openStore(storeOptions(d, clock, extra));
}

/** Simulate whole-file reads reported by workers. */
export function read(store: Store, fileId: string, times = 1): void {
  const f = store.get(fileId);
  if (!f) throw new Error(`${fileId} not held`);
  store.noteDemand({ served: { [fileId]: f.bytes * times }, hits: { [fileId]: times } });
}

/** A StoreView fed in-thread, to pin files exactly as a serving worker does. */
export function viewOf(s: Store): WorkerStoreView & { detach: () => void } {
  const view = new WorkerStoreView();
  const detach = s.attachWorker({ postMessage: (m) => view.handle(m), on: () => {}, off: () => {} });
  return Object.assign(view, { detach });
}
