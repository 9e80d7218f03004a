// Viewers starting playback through control at a steady rate: accounts (premium, one profile
// each) made through the operator API; each session fetches its DASH manifest, sends two
// heartbeats and ends. An answer other than the one the API documents is an error of control.

import type { ControlApi } from '../../scripts/lib/control-api.ts';
import { ok } from '../../scripts/lib/control-api.ts';
import type { ErrorLog } from './errors.ts';

interface Viewer { token: string; profileId: string; active: number }

export interface PlaybackStats { starts: number; heartbeats: number; ends: number; skipped: number }

export interface PlaybackOptions {
  api: ControlApi;
  /** the titles registered so far */
  titles: () => string[];
  perSecond: number;
  /** how long a session lasts, start to end (two heartbeats in between) */
  sessionMs: number;
  errors: ErrorLog;
  random: () => number;
  region: string;
}

export class PlaybackLoad {
  readonly stats: PlaybackStats = { starts: 0, heartbeats: 0, ends: 0, skipped: 0 };
  #viewers: Viewer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending = new Set<Promise<void>>();
  #o: PlaybackOptions;

  constructor(o: PlaybackOptions) { this.#o = o; }

  async start(accounts: number): Promise<void> {
    const api = this.#o.api;
    for (let i = 0; i < accounts; i++) {
      const acc = ok(await api.op<{ accountId: string; apiToken: string }>('POST', '/v1/accounts', { name: `soak ${i}`, plan: 'premium', region: this.#o.region }), 'POST /v1/accounts', 201);
      const prf = ok(await api.op<{ profileId: string }>('POST', `/v1/accounts/${acc.accountId}/profiles`, { name: 'soak' }), 'POST profiles', 201);
      this.#viewers.push({ token: acc.apiToken, profileId: prf.profileId, active: 0 });
    }
    this.#timer = setInterval(() => this.#one(), 1000 / this.#o.perSecond);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#pending]);
  }

  #one(): void {
    // premium allows 4 streams: keep each account under it, so a 429 is a real error
    const free = this.#viewers.filter((v) => v.active < 3);
    const titles = this.#o.titles();
    if (free.length === 0 || titles.length === 0) {
      this.stats.skipped++;
      return;
    }
    const v = free[Math.floor(this.#o.random() * free.length)];
    const titleId = titles[Math.floor(this.#o.random() * titles.length)];
    v.active++;
    const p = this.#session(v, titleId)
      .catch((e: unknown) => this.#o.errors.add('control', (e as Error).message))
      .finally(() => { v.active--; this.#pending.delete(p); });
    this.#pending.add(p);
  }

  async #session(v: Viewer, titleId: string): Promise<void> {
    const call = async (method: string, path: string, want: number, body?: unknown) => {
      const r = await this.#o.api.call(method, path, { token: v.token, body });
      if (r.status !== want) throw new Error(`${method} ${path.replace(/\/[^/]{20,}/, '/…')} answered ${r.status}: ${r.text.slice(0, 200)}`);
      return r.body;
    };
    const s = await call('POST', '/v1/playback', 201, { titleId, profileId: v.profileId, device: 'soak' }) as { sessionId: string };
    this.stats.starts++;
    await call('GET', `/v1/playback/${s.sessionId}/manifest.mpd`, 200);
    const beat = this.#o.sessionMs / 3;
    for (let i = 1; i <= 2; i++) {
      await new Promise((r) => setTimeout(r, beat));
      await call('PUT', `/v1/playback/${s.sessionId}/heartbeat`, 200, { positionMs: i * beat, bitrateKbps: 3000, bufferMs: 10_000 });
      this.stats.heartbeats++;
    }
    await new Promise((r) => setTimeout(r, beat));
    await call('DELETE', `/v1/playback/${s.sessionId}`, 204);
    this.stats.ends++;
  }
}
