// The serving worker's side of the store: a StoreView (types.ts) kept up to date from the main
// thread's messages. The hot path — get, ram, pin — is a Map lookup or one atomic add; demand is
// summed locally and sent back in batches.

import type { MessagePort } from 'node:worker_threads';
import type { FileEntry, StoreToWorker, StoreView, WorkerToStore } from './types.ts';

const STORE_MESSAGES = new Set(['store:pins', 'store:snapshot', 'store:upsert', 'store:remove', 'store:ram-add', 'store:ram-drop']);

export function isStoreMessage(m: unknown): m is StoreToWorker {
  return typeof m === 'object' && m !== null && STORE_MESSAGES.has((m as { type?: string }).type ?? '');
}

export class WorkerStoreView implements StoreView {
  private readonly files = new Map<string, FileEntry>();
  private readonly inRam = new Map<string, Buffer>();
  private served: Record<string, number> = {};
  private hits: Record<string, number> = {};
  private pending = 0;
  private pins: Int32Array = new Int32Array(new SharedArrayBuffer(0));
  private readyResolve!: () => void;
  /** resolves once the first snapshot has arrived */
  readonly ready = new Promise<void>((r) => (this.readyResolve = r));

  /** Apply a message from the main thread; false if it was not a store message. */
  handle(m: unknown): boolean {
    if (!isStoreMessage(m)) return false;
    switch (m.type) {
      case 'store:pins':
        this.pins = new Int32Array(m.pins);
        break;
      case 'store:snapshot':
        this.files.clear();
        for (const f of m.files) this.files.set(f.fileId, f);
        this.readyResolve();
        break;
      case 'store:upsert':
        this.files.set(m.file.fileId, m.file);
        break;
      case 'store:remove':
        this.files.delete(m.fileId);
        this.inRam.delete(m.fileId);
        break;
      case 'store:ram-add':
        this.inRam.set(m.fileId, Buffer.from(m.bytes));
        break;
      case 'store:ram-drop':
        this.inRam.delete(m.fileId);
        break;
    }
    return true;
  }

  get(fileId: string): FileEntry | undefined {
    return this.files.get(fileId);
  }

  ram(fileId: string): Buffer | undefined {
    return this.inRam.get(fileId);
  }

  /** number of files known / in RAM (status pages, tests) */
  get size(): { files: number; ram: number } {
    return { files: this.files.size, ram: this.inRam.size };
  }

  noteServed(fileId: string, bytes: number): void {
    this.served[fileId] = (this.served[fileId] ?? 0) + bytes;
    this.hits[fileId] = (this.hits[fileId] ?? 0) + 1;
    this.pending++;
  }

  pin(file: FileEntry): () => void {
    const pins = this.pins;
    const slot = file.slot;
    if (slot >= pins.length) return () => {};
    Atomics.add(pins, slot, 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      Atomics.sub(pins, slot, 1);
    };
  }

  /** The demand batch since the last call, or undefined if nothing was served. */
  takeDemand(): WorkerToStore | undefined {
    if (this.pending === 0) return undefined;
    const m: WorkerToStore = { type: 'store:demand', served: this.served, hits: this.hits };
    this.served = {};
    this.hits = {};
    this.pending = 0;
    return m;
  }
}

/**
 * Wire a view to the port the main thread talks on (worker_threads' parentPort): apply its store
 * messages and send demand batches every `flushMs`. stop() sends the last batch.
 */
export function startStoreView(port: MessagePort, flushMs = 1000): { view: WorkerStoreView; stop(): void } {
  const view = new WorkerStoreView();
  const onMessage = (m: unknown): void => {
    view.handle(m);
  };
  port.on('message', onMessage);
  const flush = (): void => {
    const batch = view.takeDemand();
    if (batch) port.postMessage(batch);
  };
  const timer = setInterval(flush, flushMs);
  timer.unref();
  return {
    view,
    stop() {
      clearInterval(timer);
      flush();
      port.off('message', onMessage);
    },
  };
}
