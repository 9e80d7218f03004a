// A small client for control's operator and packager APIs (control/README.md), for the cluster
// launcher, the tests that drive a cluster and the benches. Every call returns status and body;
// `ok()` turns an unexpected status into an error that quotes control's answer.

import type { TitleRecord } from '../../protocol/index.ts';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  text: string;
}

export interface SiteBody {
  kind: 'embedded' | 'ix';
  region: string;
  /** IANA time zone; the fill window is local to it */
  timeZone: string;
  /** local HH:MM; start equal to end is open all day (protocol/src/fill-window.ts) */
  fillWindow?: { start: string; end: string };
  /** anything else control's site body accepts (e.g. fill rate settings) */
  [k: string]: unknown;
}

/** One appliance as `GET /v1/appliances` lists it (the fields the launcher uses). */
export interface ListedAppliance {
  applianceId: string;
  name: string;
  siteId: string;
  publicUrl: string;
  state: string;
  lastReportAt: number | null;
  files: number;
  [k: string]: unknown;
}

export class ControlApi {
  readonly url: string;
  readonly operatorToken: string;
  readonly packagerToken: string;
  constructor(url: string, tokens: { operatorToken: string; packagerToken: string }) {
    this.url = url.replace(/\/+$/, '');
    this.operatorToken = tokens.operatorToken;
    this.packagerToken = tokens.packagerToken;
  }

  async call<T = any>(method: string, path: string, o: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text };
  }

  /** An operator call (Bearer operatorToken). */
  op<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    return this.call<T>(method, path, { token: this.operatorToken, body });
  }

  putSite(siteId: string, body: SiteBody): Promise<unknown> {
    return this.op('PUT', `/v1/sites/${encodeURIComponent(siteId)}`, body).then((r) => ok(r, `PUT /v1/sites/${siteId}`));
  }

  /** A one-time enrollment token for one appliance of `siteId`. */
  async enrollmentToken(siteId: string): Promise<string> {
    const r = ok(await this.op('POST', '/v1/enrollment-tokens', { siteId }), 'POST /v1/enrollment-tokens', 201);
    return r.enrollmentToken as string;
  }

  async appliances(): Promise<ListedAppliance[]> {
    return ok(await this.op<ListedAppliance[]>('GET', '/v1/appliances'), 'GET /v1/appliances');
  }

  /** Register a title (Bearer packagerToken), as the packager does. */
  async registerTitle(rec: TitleRecord): Promise<void> {
    ok(await this.call('POST', '/v1/titles', { token: this.packagerToken, body: rec }), 'POST /v1/titles', 201);
  }

  // --- fill (issue 8): operator calls ---

  /** Operator's predicted demand for a title without history. */
  async promote(titleId: string, body: { regions: string[]; expectedViews: number; releaseAt?: number | string }): Promise<unknown> {
    return ok(await this.op('PUT', `/v1/titles/${encodeURIComponent(titleId)}/promotion`, body), `PUT /v1/titles/${titleId}/promotion`);
  }

  /** Run the planner now (instead of waiting for its schedule). */
  async plan(body: unknown = {}): Promise<any> {
    return ok(await this.op('POST', '/v1/fill/plan', body), 'POST /v1/fill/plan');
  }

  /** Force filling outside the window for a site for `minutes` (0 ends it). */
  async fillNow(siteId: string, minutes: number): Promise<any> {
    return ok(await this.op('POST', `/v1/sites/${encodeURIComponent(siteId)}/fill-now`, { minutes }), `POST /v1/sites/${siteId}/fill-now`);
  }

  /** A site's fill rate per appliance and peer-serving rate, bits/s (0 = no limit, null = control's default). */
  async siteFill(siteId: string, body: { rateLimitBps?: number | null; peerServeRateBps?: number | null }): Promise<any> {
    return ok(await this.op('PUT', `/v1/sites/${encodeURIComponent(siteId)}/fill`, body), `PUT /v1/sites/${siteId}/fill`);
  }

  async fillStatus(): Promise<any> {
    return ok(await this.op('GET', '/v1/fill/status'), 'GET /v1/fill/status');
  }
}

function hhmm(minutes: number): string {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * A site fill window (local time of a site in UTC) that is open now and for at least the next
 * hour (`open`), or closed now and for at least the next hour: whole hours around the current
 * one, so tests and benches do not depend on when they run.
 */
export function fillWindowAt(open: boolean, now = Date.now()): { start: string; end: string } {
  const hour = new Date(now).getUTCHours() * 60;
  return open ? { start: hhmm(hour - 60), end: hhmm(hour + 120) } : { start: hhmm(hour + 120), end: hhmm(hour + 180) };
}

/** The body of a 2xx answer (or of `status` exactly), else an error naming the call. */
export function ok<T>(r: ApiAnswer<T>, what: string, status?: number): T {
  const good = status === undefined ? r.status >= 200 && r.status < 300 : r.status === status;
  if (!good) throw new Error(`control: ${what} answered ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}
