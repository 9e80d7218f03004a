// What one heartbeat says about the throughput its appliance delivered, for steering's
// ThroughputBook: since the previous heartbeat the player played Δposition and its buffer grew by
// Δbuffer, so it received (Δposition + Δbuffer) of media at `bitrateKbps` over the wall time
// between them. A player with a comfortable buffer that is not draining paces itself (it waits
// for its buffer target, not for the box), so such a sample counts as serving well: otherwise a
// box that plays a low-bitrate title perfectly would look slow.
//
// The previous heartbeat's buffer is not in the session row; it is kept here, per live session,
// in memory (dropped when the session ends or lapses). A heartbeat whose predecessor this process
// did not see (a restart, another control instance) counts only Δposition.

import { parseAddress } from '../../../protocol/index.ts';
import type { ThroughputBook } from '../steering/throughput.ts';
import type { SessionRow } from '../store/repository.ts';

/** a buffer at least this long, and not draining, means the player is not waiting on the box */
export const COMFORTABLE_BUFFER_MS = 10_000;
/** heartbeats closer together than this say too little to judge */
const MIN_SAMPLE_MS = 1_000;

export interface HeartbeatFigures { positionMs: number; bitrateKbps: number; bufferMs: number }

export interface Sample { kbps: number; durationMs: number }

export class HeartbeatSampler {
  #buffers = new Map<string, { bufferMs: number; at: number }>();

  get tracked(): number { return this.#buffers.size; }

  /**
   * The sample for `hb` arriving at `now` on session `s` (its row as before this heartbeat), or
   * undefined when it says nothing about delivery: too soon, after a gap longer than `maxGapMs`,
   * or a seek (the position jumped back, or further than the wall time could play).
   */
  sample(s: SessionRow, hb: HeartbeatFigures, now: number, maxGapMs: number, goodKbps: number): Sample | undefined {
    const prev = this.#buffers.get(s.sessionId);
    this.#buffers.set(s.sessionId, { bufferMs: hb.bufferMs, at: now });
    const dt = now - s.lastHeartbeatAt;
    if (dt < MIN_SAMPLE_MS || dt > maxGapMs) return undefined;
    const played = hb.positionMs - s.positionMs;
    if (played < 0 || played > dt * 4) return undefined;
    // The first heartbeat of a session follows the start, when the buffer was empty.
    const prevBuffer = prev?.bufferMs ?? (s.lastHeartbeatAt === s.startedAt ? 0 : undefined);
    const received = played + (prevBuffer === undefined ? 0 : hb.bufferMs - prevBuffer);
    let kbps = (hb.bitrateKbps * Math.max(0, received)) / dt;
    if (prevBuffer !== undefined && hb.bufferMs >= COMFORTABLE_BUFFER_MS && hb.bufferMs >= prevBuffer) kbps = Math.max(kbps, goodKbps);
    return { kbps, durationMs: dt };
  }

  forget(sessionId: string): void { this.#buffers.delete(sessionId); }

  /** Drop sessions not heard from since `before` (lapsed ones never say goodbye). */
  prune(before: number): number {
    let n = 0;
    for (const [sid, b] of this.#buffers) if (b.at < before) { this.#buffers.delete(sid); n++; }
    return n;
  }
}

/** Record a sample in the book under the viewer's client prefix and the serving appliance's slot. */
export function recordSample(book: ThroughputBook, clientIp: string, slot: number, sample: Sample, now: number) {
  const a = parseAddress(clientIp);
  return a ? book.record(book.keyOf(a), slot, sample.kbps, sample.durationMs, now) : undefined;
}
