// Shared test fixtures: a real control service on port 0 with an injected clock, a small title
// record, and helpers that enroll appliances and send reports over HTTP.

import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { ApplianceReport, RouteAttrs, TitleRecord } from '../../protocol/index.ts';
import { startControl } from '../src/server.ts';
import type { RunningControl } from '../src/server.ts';
import { loadSettings } from '../src/settings.ts';
import type { ControlSettings } from '../src/settings.ts';

export const OPERATOR = 'operator-token-0123456789';
export const PACKAGER = 'packager-token-0123456789';
export const URL_KEYS = { k1: 'url-token-secret-0123456789' };
export const KEK = 'ab'.repeat(32);

export interface Ctx extends RunningControl {
  clock: { t: number };
  call(method: string, path: string, o?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; text: string; headers: Headers }>;
}

export async function startTestControl(over: Partial<ControlSettings> = {}): Promise<Ctx> {
  const clock = { t: 1_800_000_000_000 };
  const settings = loadSettings({
    port: 0, dbPath: ':memory:', logLevel: 'silent', operatorToken: OPERATOR, packagerToken: PACKAGER,
    urlTokenKid: 'k1', urlTokenSecret: URL_KEYS.k1, kek: KEK, originUrl: 'http://origin.test:8090',
    reportIntervalMs: 10_000, ...over,
  }, {});
  const running = await startControl(settings, { clock: () => clock.t, log: pino({ level: 'silent' }) });
  const call: Ctx['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(running.url + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    let body: any;
    try { body = JSON.parse(text); } catch { body = undefined; }
    return { status: res.status, body, text, headers: res.headers };
  };
  return { ...running, clock, call };
}

export function kidOf(titleId: string, n: number): string {
  return Buffer.from(`${titleId}-kid-${n}`.padEnd(16, '.').slice(0, 16)).toString('hex');
}

export function titleRecord(titleId: string, regions: string[] = []): TitleRecord {
  const v = `${titleId}.v1`, a = `${titleId}.a1`;
  const file = (fileId: string, kind: 'video' | 'audio', kid: string) => ({
    fileId, kind, mimeType: kind === 'video' ? 'video/mp4' : 'audio/mp4', codecs: kind === 'video' ? 'avc1.64001f' : 'mp4a.40.2',
    bandwidth: 1_000_000, bytes: 1000, sha256: 'a'.repeat(64), initRange: { start: 0, end: 99 }, indexRange: { start: 100, end: 199 }, kid,
  });
  return {
    title: { titleId, name: `Title ${titleId}`, regions },
    manifest: {
      version: 1, titleId, durationMs: 60_000,
      files: [file(v, 'video', kidOf(titleId, 1)), file(a, 'audio', kidOf(titleId, 2))],
      kids: [kidOf(titleId, 1), kidOf(titleId, 2)],
      templates: {
        dash: `<MPD><Period>{{BASE_URLS}}<ContentProtection><clearkey:Laurl Lic_type="EME-1.0">{{LICENSE_URL}}</clearkey:Laurl></ContentProtection><AdaptationSet><Representation id="v1"><BaseURL>${v}</BaseURL></Representation></AdaptationSet></Period></MPD>`,
        hls: {
          master: `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="{{MEDIA:${a}}}"\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"\n{{MEDIA:${v}}}\n`,
          media: {
            [v]: `#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{{LICENSE_URL}}"\n#EXT-X-MAP:URI="{{BASE}}${v}",BYTERANGE="200@0"\n#EXT-X-BYTERANGE:800@200\n{{BASE}}${v}\n#EXT-X-ENDLIST\n`,
            [a]: `#EXTM3U\n#EXT-X-MAP:URI="{{BASE}}${a}",BYTERANGE="200@0"\n#EXT-X-BYTERANGE:800@200\n{{BASE}}${a}\n#EXT-X-ENDLIST\n`,
          },
        },
      },
      createdAt: '2026-11-22T00:00:00Z',
    },
    keys: [
      { kid: kidOf(titleId, 1), key: randomBytes(16).toString('hex'), label: 'hd' },
      { kid: kidOf(titleId, 2), key: randomBytes(16).toString('hex'), label: 'audio' },
    ],
  };
}

export async function addSite(ctx: Ctx, siteId: string, kind: 'embedded' | 'ix' = 'embedded', region = 'eu'): Promise<void> {
  const r = await ctx.call('PUT', `/v1/sites/${siteId}`, { token: OPERATOR, body: { kind, region, timeZone: 'Europe/London' } });
  if (r.status !== 200) throw new Error(`site: ${r.text}`);
}

/** `tokenKeys`: the URL-token key-set version last received, sent back as an appliance does */
export interface Enrolled { applianceId: string; credential: string; seq: number; bootId: string; tokenKeys?: string }

export async function enroll(ctx: Ctx, siteId: string, name: string, publicUrl = `http://${name}.test:8081`): Promise<Enrolled> {
  const t = await ctx.call('POST', '/v1/enrollment-tokens', { token: OPERATOR, body: { siteId } });
  const r = await ctx.call('POST', '/v1/appliances/enroll', { body: { enrollmentToken: t.body.enrollmentToken, name, publicUrl } });
  if (r.status !== 201) throw new Error(`enroll: ${r.text}`);
  return { applianceId: r.body.applianceId, credential: r.body.credential, seq: 0, bootId: 'boot-1' };
}

export function report(over: Partial<ApplianceReport> & { files?: string[]; routes?: RouteAttrs[]; egress?: number } = {}): ApplianceReport {
  const { files, routes, egress, ...rest } = over;
  return {
    seq: 0, bootId: 'boot-1', sentAt: 0, softwareVersion: '0.1.0', health: { status: 'ok', reasons: [] }, draining: false,
    load: { egressBps: egress ?? 1e9, capacityBps: 10e9, connections: 10, cpu: 0.1 }, tiers: [], bgp: [],
    ...(files ? { inventory: { kind: 'full', hash: `h-${files.join(',')}`, files } } : {}),
    ...(routes ? { prefixes: { hash: `p-${routes.map((r) => r.prefix).join(',')}`, routes } } : {}),
    ...rest,
  };
}

/** Send the next report of an enrolled appliance (seq advances). */
export async function sendReport(ctx: Ctx, a: Enrolled, over: Parameters<typeof report>[0] = {}) {
  a.seq++;
  const r = await ctx.call('POST', `/v1/appliances/${a.applianceId}/report`, {
    token: a.credential, body: report({ seq: a.seq, bootId: a.bootId, ...(a.tokenKeys ? { tokenKeys: a.tokenKeys } : {}), ...over }),
  });
  if (r.body?.tokenKeys?.version) a.tokenKeys = r.body.tokenKeys.version;
  return r;
}

export async function addAccount(ctx: Ctx, plan: 'basic' | 'standard' | 'premium', region = 'eu', status: 'active' | 'suspended' = 'active') {
  const acc = await ctx.call('POST', '/v1/accounts', { token: OPERATOR, body: { name: 'viewer', plan, region, status } });
  const prf = await ctx.call('POST', `/v1/accounts/${acc.body.accountId}/profiles`, { token: OPERATOR, body: { name: 'main' } });
  return { accountId: acc.body.accountId as string, token: acc.body.apiToken as string, profileId: prf.body.profileId as string };
}

export async function addTitle(ctx: Ctx, rec: TitleRecord): Promise<void> {
  const r = await ctx.call('POST', '/v1/titles', { token: PACKAGER, body: rec });
  if (r.status !== 201) throw new Error(`title: ${r.text}`);
}
