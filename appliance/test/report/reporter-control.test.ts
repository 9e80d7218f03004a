// The reporter against the REAL control service (control/main.ts in a child process) and, for
// the end-to-end case, a real BIRD feeding the BGP speaker: enrollment with a stored credential,
// prefixes reaching control's steering by the next report, inventory deltas, restart
// without re-enrolling, and retries with backoff while control is down.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BgpSpeaker } from '../../src/bgp/speaker.ts';
import { CREDENTIAL_FILE } from '../../src/report/credential-store.ts';
import { Reporter, type ReportSnapshot } from '../../src/report/reporter.ts';
import { ReporterSettings } from '../../src/report/settings.ts';
import { freePort, loopbackPair, speakerFacing, startBird, waitFor } from '../bgp/helpers/routers.ts';
import { addTitle, ENROLLMENT_TOKEN, startControlProcess, type ControlProc } from './helpers/control-process.ts';

const INTERVAL = 400;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setupControl() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-report-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort('127.0.0.1');
  const box: { c: ControlProc } = { c: await startControlProcess(dir, port, INTERVAL) };
  cleanups.push(() => box.c.stop());
  const site = await box.c.op('PUT', '/v1/sites/lon-1', { kind: 'embedded', region: 'eu', timeZone: 'Europe/London' });
  expect(site.status).toBe(200);
  return { dir, port, box, restart: async () => { await box.c.stop(); box.c = await startControlProcess(dir, port, INTERVAL); } };
}

function snapshotOf(state: { files: string[] }): () => ReportSnapshot {
  return () => ({
    health: { status: 'ok', reasons: [] }, draining: false,
    load: { egressBps: 1e8, capacityBps: 1e10, connections: 3, cpu: 0.1 },
    tiers: [{ tier: 'ram', usedBytes: 10, capacityBytes: 100 }], inventory: state.files,
  });
}

function makeReporter(controlUrl: string, stateDir: string, snapshot: () => ReportSnapshot, bgp?: BgpSpeaker) {
  const r = new Reporter({
    controlUrl, stateDir, softwareVersion: 'test',
    settings: ReporterSettings.parse({ enrollmentToken: ENROLLMENT_TOKEN, name: 'box-1', publicUrl: 'http://127.0.0.1:9999', backoffMinMs: 50, backoffMaxMs: 400 }),
    snapshot, bgp: bgp ? { prefixes: bgp.rib, sessions: () => bgp.status() } : undefined,
  });
  cleanups.push(() => r.stop());
  return r;
}

describe('reporter → real control', () => {
  it('carries BIRD-learned prefixes to control steering by the next report, withdrawals too', async () => {
    const { dir, box } = await setupControl();
    const [birdAddr, ourAddr] = loopbackPair();
    const birdPort = await freePort(birdAddr);
    const bird = await startBird(`
router id 10.255.0.1;
protocol device {}
protocol static a { ipv4; route 81.10.0.0/16 blackhole; }
protocol static b { ipv4; route 81.10.20.0/24 blackhole; }
protocol static c { ipv6; route 2a00:10::/32 blackhole; }
protocol bgp edge {
  local ${birdAddr} port ${birdPort} as 65001; neighbor ${ourAddr} as 64512; multihop; passive on; strict bind on; hold time 9;
  ipv4 { import none; export filter { bgp_med = 5; accept; }; };
  ipv6 { import none; export all; next hop address 2a00:ffff::1; };
}`);
    cleanups.push(() => bird.stop());
    const speaker = speakerFacing({ address: birdAddr, port: birdPort, localAddress: ourAddr }, cleanups);
    await speaker.start();
    await waitFor('routes', () => speaker.rib.snapshot().routes.length === 3);

    // steering names a box for a title it holds (the probe answers an unknown title 404)
    await addTitle(box.c, 't1');
    const rep = makeReporter(box.c.url, dir, snapshotOf({ files: ['t1.v1', 't1.a1'] }), speaker);
    rep.start();
    await waitFor('enrolled', () => rep.applianceId);
    const id = rep.applianceId!;
    const steer = async (ip: string) => (await box.c.op('GET', `/v1/steering?ip=${ip}&titleId=t1`)).body;
    const prefixesAtControl = async () => ((await box.c.op('GET', `/v1/appliances/${id}/prefixes`)).body.routes as { prefix: string }[]).map((r) => r.prefix).sort();
    for (let i = 0; i < 100 && (await prefixesAtControl()).length !== 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await prefixesAtControl()).toEqual(['2a00:10::/32', '81.10.0.0/16', '81.10.20.0/24']);
    const routed = await steer('81.10.20.7');
    expect(JSON.stringify(routed)).toContain('127.0.0.1:9999');
    expect(JSON.stringify(await steer('2a00:10::1'))).toContain('127.0.0.1:9999');
    const full = rep.stats.fullPrefixes;

    // Withdraw at the router: control stops steering that space by the next report. Counted in
    // reports, not ms: one may be in flight with the old RIB, the one after must carry the change.
    await bird.birdc('disable c');
    await waitFor('v6 withdrawn in rib', () => speaker.rib.snapshot().routes.length === 2);
    const sentAtWithdrawal = rep.stats.sent;
    await waitFor('two reports after the withdrawal', () => rep.stats.sent >= sentAtWithdrawal + 2);
    expect(await prefixesAtControl()).not.toContain('2a00:10::/32');
    expect(JSON.stringify(await steer('2a00:10::1'))).not.toContain('127.0.0.1:9999');
    // The withdrawal went as a delta, and control's hash (checked against its own) is the RIB's.
    expect(rep.stats.fullPrefixes).toBe(full);
    expect(rep.stats.prefixDeltas).toBeGreaterThanOrEqual(1);
    const atControl = async () => (await box.c.op('GET', `/v1/appliances/${id}/prefixes`)).body.hash;
    expect(await atControl()).toBe(speaker.rib.hash());
    // Unchanged prefixes are sent as a hash only.
    const sent = rep.stats.sent;
    await waitFor('more reports', () => rep.stats.sent >= sent + 2);
    expect(rep.stats.fullPrefixes).toBe(full);
    // Announced again: a delta as well.
    await bird.birdc('enable c');
    for (let i = 0; i < 100 && !(await prefixesAtControl()).includes('2a00:10::/32'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await prefixesAtControl()).toContain('2a00:10::/32');
    expect(rep.stats.fullPrefixes).toBe(full);
    expect(await atControl()).toBe(speaker.rib.hash());
    const view = (await box.c.op('GET', `/v1/appliances/${id}`)).body;
    expect(JSON.stringify(view)).toContain(birdAddr); // BGP session state reached control
  });

  it('enrolls once, keeps the credential, sends inventory deltas, and survives a dead control', async () => {
    const { dir, box, restart } = await setupControl();
    const state = { files: ['t1.v1', 't1.a1'] };
    const rep = makeReporter(box.c.url, dir, snapshotOf(state));
    expect(await rep.reportOnce()).toBe('sent');
    const stored = JSON.parse(await readFile(path.join(dir, CREDENTIAL_FILE), 'utf8'));
    expect(stored.applianceId).toBe(rep.applianceId);
    state.files = ['t1.v1', 't2.v1'];
    expect(await rep.reportOnce()).toBe('sent');
    expect(rep.stats.fullInventories).toBe(1); // the second was a delta control accepted

    // A restarted reporter (new bootId) reuses the stored credential: the one-time token is spent.
    const rep2 = makeReporter(box.c.url, dir, snapshotOf(state));
    expect(await rep2.reportOnce()).toBe('sent');
    expect(rep2.stats.enrollments).toBe(0);
    expect(rep2.applianceId).toBe(rep.applianceId);

    // Control down: the loop retries with backoff and never throws.
    rep2.start();
    await box.c.stop();
    const failures = rep2.stats.failures;
    await waitFor('failures', () => rep2.stats.failures >= failures + 3, 15000);
    await restart();
    const sent = rep2.stats.sent;
    await waitFor('recovered', () => rep2.stats.sent > sent, 15000);
    // After a failure the next report is full again, so control is never left with a stale base.
    expect(rep2.stats.fullInventories).toBeGreaterThanOrEqual(2);
    const view = (await box.c.op('GET', `/v1/appliances/${rep.applianceId}`)).body;
    expect(view.state ?? view.status).toBe('healthy');
  });

  it('a hung control times out and the reporter moves on', async () => {
    const { dir, box } = await setupControl();
    const rep = new Reporter({
      controlUrl: box.c.url, stateDir: dir, softwareVersion: 'test', snapshot: snapshotOf({ files: [] }),
      settings: ReporterSettings.parse({ enrollmentToken: ENROLLMENT_TOKEN, requestTimeoutMs: 300 }),
    });
    expect(await rep.reportOnce()).toBe('sent');
    box.c.pause();
    try {
      expect(await rep.reportOnce()).toBe('retry');
    } finally {
      box.c.resume();
    }
    expect(await rep.reportOnce()).toBe('sent');
  });
});
