// Viewers' range requests against the appliances at a steady rate: a file the box holds (its
// own list, refreshed as fill adds files), a range of 1 KiB – 1 MiB anywhere in it, and the bytes
// checked against the origin's copy. The RAM tier is smaller than what the boxes hold, so ranges
// come from RAM and from disk. A wrong status, wrong bytes or a failed request is an error of the
// appliance that answered.

import { open } from 'node:fs/promises';
import { fileUrl, signToken } from '../../protocol/index.ts';
import type { ClusterAppliance, ClusterSecrets } from '../../scripts/lib/cluster.ts';
import type { ErrorLog } from './errors.ts';

export interface SourceFile { titleId: string; path: string; bytes: number }

export interface RangeStats { requests: number; bytes: number; skipped: number }

export interface RangeLoadOptions {
  appliances: ClusterAppliance[];
  secrets: ClusterSecrets;
  /** fileId → the origin's copy, for the bytes and the title its token names */
  sources: Map<string, SourceFile>;
  /** requests per second to each appliance */
  rps: number;
  /** at most this many in flight per appliance; a tick beyond it is skipped (counted) */
  maxInFlight: number;
  errors: ErrorLog;
  random: () => number;
}

export class RangeLoad {
  readonly stats = new Map<string, RangeStats>();
  #held = new Map<string, string[]>();
  #timers: NodeJS.Timeout[] = [];
  #inFlight = new Map<string, number>();
  #pending = new Set<Promise<void>>();
  #o: RangeLoadOptions;

  constructor(o: RangeLoadOptions) {
    this.#o = o;
    for (const a of o.appliances) {
      this.stats.set(a.name, { requests: 0, bytes: 0, skipped: 0 });
      this.#inFlight.set(a.name, 0);
    }
  }

  async start(): Promise<void> {
    for (const a of this.#o.appliances) await this.#refresh(a);
    this.#timers.push(setInterval(() => { for (const a of this.#o.appliances) void this.#refresh(a); }, 15_000));
    // one tick per 20 ms per appliance, each issuing the requests due by then
    const perTick = this.#o.rps / 50;
    for (const a of this.#o.appliances) {
      let due = 0;
      this.#timers.push(setInterval(() => {
        for (due += perTick; due >= 1; due--) this.#one(a);
      }, 20));
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await Promise.allSettled([...this.#pending]);
  }

  /** One checked range now (e.g. after the hostile burst); a failure goes to the error log. */
  async once(a: ClusterAppliance, fileId: string, first: number, last: number): Promise<boolean> {
    try {
      await this.#fetch(a, fileId, this.#o.sources.get(fileId)!, first, last);
      return true;
    } catch (e) {
      this.#o.errors.add(a.name, `range ${fileId} ${first}-${last}: ${(e as Error).message}`);
      return false;
    }
  }

  async #refresh(a: ClusterAppliance): Promise<void> {
    const r = await a.admin<{ files: Array<{ fileId: string }> }>('GET', '/v1/admin/files').catch(() => undefined);
    if (r?.status === 200) this.#held.set(a.name, r.body.files.map((f) => f.fileId).filter((id) => this.#o.sources.has(id)));
  }

  #one(a: ClusterAppliance): void {
    const st = this.stats.get(a.name)!;
    const held = this.#held.get(a.name) ?? [];
    if (held.length === 0 || this.#inFlight.get(a.name)! >= this.#o.maxInFlight) {
      st.skipped++;
      return;
    }
    const rnd = this.#o.random;
    const fileId = held[Math.floor(rnd() * held.length)];
    const src = this.#o.sources.get(fileId)!;
    const length = Math.min(src.bytes, Math.round(2 ** (10 + rnd() * 10)));
    const start = Math.floor(rnd() * (src.bytes - length + 1));
    this.#inFlight.set(a.name, this.#inFlight.get(a.name)! + 1);
    const p = this.#fetch(a, fileId, src, start, start + length - 1)
      .then((n) => { st.requests++; st.bytes += n; })
      .catch((e: unknown) => this.#o.errors.add(a.name, `range ${fileId} ${start}-${start + length - 1}: ${(e as Error).message}`))
      .finally(() => {
        this.#inFlight.set(a.name, this.#inFlight.get(a.name)! - 1);
        this.#pending.delete(p);
      });
    this.#pending.add(p);
  }

  async #fetch(a: ClusterAppliance, fileId: string, src: SourceFile, first: number, last: number): Promise<number> {
    const s = this.#o.secrets;
    const token = signToken({ kid: s.tokenKid, secret: s.tokenSecret, exp: Math.floor(Date.now() / 1000) + 3600, title: src.titleId });
    const res = await fetch(a.origin + fileUrl('', fileId, token), { headers: { range: `bytes=${first}-${last}` }, signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 206) throw new Error(`status ${res.status}: ${body.toString('utf8', 0, 200)}`);
    const want = Buffer.alloc(last - first + 1);
    const fh = await open(src.path, 'r');
    try {
      await fh.read(want, 0, want.length, first);
    } finally {
      await fh.close();
    }
    if (!body.equals(want)) throw new Error(`${body.length} bytes that differ from the origin's (${want.length} expected)`);
    return body.length;
  }
}
