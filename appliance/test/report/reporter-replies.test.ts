// How the reporter answers control's replies, against a real HTTP server that validates every
// body with protocol's ApplianceReport and replies as the test scripts: needPrefixes and
// needInventory bring the full sets back, seq grows within one bootId, and 5xx answers back off.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplianceReport, type ReportReply } from '../../../protocol/index.ts';
import { Reporter } from '../../src/report/reporter.ts';
import { ReporterSettings } from '../../src/report/settings.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeControl(reply: (r: ApplianceReport) => [number, ReportReply | object]) {
  const reports: ApplianceReport[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const send = (status: number, obj: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.url === '/v1/appliances/enroll') return send(201, { applianceId: 'app-1', siteId: 's', credential: 'cred-1', reportIntervalMs: 1000 });
      if (req.headers.authorization !== 'Bearer cred-1') return send(401, { error: { code: 'unauthenticated', message: 'no' } });
      const parsed = ApplianceReport.safeParse(JSON.parse(body));
      if (!parsed.success) return send(400, { error: { code: 'bad-request', message: parsed.error.message } });
      reports.push(parsed.data);
      const [status, out] = reply(parsed.data);
      send(status, out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reports };
}

async function reporter(url: string, bgpRoutes: { hash: string; routes: { prefix: string; asPathLength: number }[] }, files: string[]) {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-rep-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return new Reporter({
    controlUrl: url, stateDir: dir, softwareVersion: 't', settings: ReporterSettings.parse({ enrollmentToken: 'x'.repeat(20) }),
    snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1, connections: 0, cpu: 0 }, tiers: [], inventory: files }),
    bgp: { routes: () => bgpRoutes, sessions: () => [] },
  });
}

describe('reporter replies', () => {
  it('sends full sets again when control asks, hashes otherwise; seq grows', async () => {
    let ask: ReportReply = { ok: true };
    const c = await fakeControl(() => [200, ask]);
    const rib = { hash: 'h1', routes: [{ prefix: '81.0.0.0/24', asPathLength: 1 }] };
    const files = ['t1.v1'];
    const rep = await reporter(c.url, rib, files);
    await rep.reportOnce();
    await rep.reportOnce();
    expect(c.reports[0].prefixes).toEqual({ hash: 'h1', routes: rib.routes });
    expect(c.reports[0].inventory?.kind).toBe('full');
    expect(c.reports[1].prefixes).toEqual({ hash: 'h1' });
    expect(c.reports[1].inventory).toMatchObject({ kind: 'delta', added: [], removed: [] });
    ask = { ok: true, needPrefixes: true, needInventory: true };
    await rep.reportOnce();
    ask = { ok: true };
    await rep.reportOnce();
    expect(c.reports[3].prefixes).toEqual({ hash: 'h1', routes: rib.routes });
    expect(c.reports[3].inventory?.kind).toBe('full');
    expect(c.reports.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(new Set(c.reports.map((r) => r.bootId)).size).toBe(1);
  });

  it('backs off on 5xx with growing delays and recovers', async () => {
    let fail = true;
    const c = await fakeControl(() => (fail ? [503, { error: { code: 'unavailable', message: 'down' } }] : [200, { ok: true }]));
    const delays: number[] = [];
    const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-rep-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const rep = new Reporter({
      controlUrl: c.url, stateDir: dir, softwareVersion: 't', random: () => 0.5,
      settings: ReporterSettings.parse({ enrollmentToken: 'x'.repeat(20), backoffMinMs: 10, backoffMaxMs: 80, reportIntervalMs: 50 }),
      snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1, connections: 0, cpu: 0 }, tiers: [], inventory: [] }),
      timers: { setTimeout: (f, ms) => { delays.push(ms); return setTimeout(f, ms); }, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), now: () => Date.now() },
    });
    cleanups.push(() => rep.stop());
    rep.start();
    while (rep.stats.failures < 6) await new Promise((r) => setTimeout(r, 10));
    fail = false;
    while (rep.stats.sent < 1) await new Promise((r) => setTimeout(r, 10));
    await rep.stop();
    // first tick 0, then 10, 20, 40, 80, 80 (capped), … and the regular interval after success
    expect(delays.slice(0, 6)).toEqual([0, 10, 20, 40, 80, 80]);
    expect(delays.at(-1)).toBe(50);
  });
});
