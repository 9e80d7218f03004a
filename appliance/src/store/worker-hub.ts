// The main thread's side of the store ↔ worker messages (types.ts): every attached worker gets
// the pin table, a snapshot and the RAM-tier buffers on attach, then every change as it happens,
// in order. Demand batches coming back are handed to the store.

import type { StoreToWorker, WorkerToStore } from './types.ts';

/** A worker_threads Worker or a MessagePort: anything that posts and emits 'message'. */
export interface WorkerPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  once?(event: string, listener: () => void): unknown;
}

export function isDemandMessage(m: unknown): m is WorkerToStore {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'store:demand';
}

export class WorkerHub {
  private readonly ports = new Set<WorkerPortLike>();
  private readonly onDemand: (m: WorkerToStore) => void;

  constructor(onDemand: (m: WorkerToStore) => void) {
    this.onDemand = onDemand;
  }

  get size(): number {
    return this.ports.size;
  }

  /** Start feeding a worker; returns a detach function (also run when the worker exits). */
  attach(port: WorkerPortLike, initial: StoreToWorker[], onDetach: () => void): () => void {
    const listener = (m: unknown): void => {
      if (isDemandMessage(m)) this.onDemand(m);
    };
    const detach = (): void => {
      if (!this.ports.delete(port)) return;
      port.off('message', listener);
      onDetach();
    };
    this.ports.add(port);
    port.on('message', listener);
    port.once?.('exit', detach);
    port.once?.('close', detach);
    for (const m of initial) port.postMessage(m);
    return detach;
  }

  broadcast(m: StoreToWorker): void {
    for (const p of this.ports) p.postMessage(m);
  }
}
