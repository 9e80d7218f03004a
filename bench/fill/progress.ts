// Follow one appliance's fill from its admin /v1/status (the engine's own counters): sample the
// bytes it has fetched by source level until it holds its whole plan, then turn the samples into
// rates — over the whole transfer (first byte to last) and over its steady middle.

import type { ClusterAppliance } from '../../scripts/lib/cluster.ts';

export interface FillSample {
  /** ms since the watch started */
  t: number;
  /** bytes fetched by all levels (engine counter, since the daemon started) */
  fetched: number;
  held: number;
  wanted: number;
  byLevel: { peer: number; tier: number; origin: number };
  active: number;
}

export interface FillWatch {
  samples: FillSample[];
  /** resolves when the appliance holds everything it wants (and wants something) */
  done: Promise<FillSample>;
  stop(): void;
}

async function sample(a: ClusterAppliance, t0: number): Promise<FillSample | undefined> {
  const st = (await a.status().catch(() => undefined))?.fill;
  if (!st) return undefined;
  const b = st.bytesBySource ?? { peer: 0, tier: 0, origin: 0 };
  return {
    t: performance.now() - t0,
    fetched: b.peer + b.tier + b.origin,
    held: st.held?.bytes ?? 0,
    wanted: st.wanted?.bytes ?? 0,
    byLevel: { peer: b.peer, tier: b.tier, origin: b.origin },
    active: st.active?.length ?? 0,
  };
}

/** Sample every `intervalMs` until the plan is held or `timeoutMs` passes (then `done` rejects). */
export function watchFill(a: ClusterAppliance, o: { intervalMs?: number; timeoutMs?: number; minWanted?: number } = {}): FillWatch {
  const t0 = performance.now();
  const samples: FillSample[] = [];
  let stopped = false;
  const done = (async () => {
    const deadline = t0 + (o.timeoutMs ?? 600_000);
    while (!stopped && performance.now() < deadline) {
      const s = await sample(a, t0);
      if (s) {
        samples.push(s);
        if (s.wanted >= (o.minWanted ?? 1) && s.held >= s.wanted && s.active === 0) return s;
      }
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
    }
    const last = samples.at(-1);
    throw new Error(`${a.name}: fill not complete (${last ? `${last.held} of ${last.wanted} bytes held` : 'no status'})`);
  })();
  done.catch(() => {});
  return { samples, done, stop: () => void (stopped = true) };
}

export interface Rate {
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second */
  MBps: number;
}

/**
 * The rate between the first sample at or above `fromBytes` fetched (relative to the first
 * sample) and the first at or above `toBytes`. Samples are taken every ~200 ms, so a transfer of
 * a few seconds is measured to a few percent.
 */
export function rateBetween(samples: FillSample[], fromBytes: number, toBytes: number): Rate | undefined {
  if (samples.length === 0) return undefined;
  const base = samples[0].fetched;
  const a = samples.find((s) => s.fetched - base >= fromBytes && s.fetched > base);
  const b = samples.find((s) => s.fetched - base >= toBytes);
  if (!a || !b || b.t <= a.t) return undefined;
  const bytes = b.fetched - a.fetched;
  const seconds = (b.t - a.t) / 1000;
  return { bytes, seconds, MBps: bytes / seconds / 1e6 };
}

/** First byte to last: from the last sample before anything was fetched to the first with all of it. */
export function wholeTransfer(samples: FillSample[]): Rate | undefined {
  if (samples.length < 2) return undefined;
  const base = samples[0].fetched;
  const startIdx = samples.findIndex((s) => s.fetched > base);
  if (startIdx < 0) return undefined;
  const start = samples[Math.max(0, startIdx - 1)];
  const end = samples.at(-1)!;
  const bytes = end.fetched - start.fetched;
  const seconds = (end.t - start.t) / 1000;
  return seconds > 0 ? { bytes, seconds, MBps: bytes / seconds / 1e6 } : undefined;
}
