// Fill in a real daemon process: the manifest comes from control (stand-in) with the reporter's
// credential, files arrive from a real source and are served; the report, /v1/status, /metrics
// (checked by promtool) and health show it; a restart without control keeps the saved manifest
// (misses are filled from it; scheduled fill waits for control).

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { json, sample, startDaemon, type Daemon } from '../daemon/harness.ts';
import { CREDENTIAL, fillDaemonSettings, startControlStub, type ControlStub } from './helpers/control-stub.ts';
import { until } from './helpers/engine.ts';
import { manifest, startSource, testFile, type SourceServer } from './helpers/source-server.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function daemonWith(control: ControlStub, o: Parameters<typeof startDaemon>[0] = {}): Promise<Daemon> {
  const d = await startDaemon({ ...o, settings: { ...fillDaemonSettings(control), ...o.settings } });
  cleanup.push(() => d.stop());
  return d;
}

async function source(...a: Parameters<typeof startSource>): Promise<SourceServer> {
  const s = await startSource(...a);
  cleanup.push(() => s.close());
  return s;
}

const lastFill = (c: ControlStub) => c.reports.at(-1)?.fill;

describe('fill in the daemon', () => {
  it('fetches the manifest with the credential, fills from the source, serves the file, and reports it', async () => {
    const files = [testFile('t1.a', 300_000), testFile('t1.b', 1_200_000)];
    const peer = await source('p1', 'peer', new Map(files.map((f) => [f.fileId, f.data])));
    const control = await startControlStub(manifest({ version: 'v1', files: files.map((f) => ({ ...f, sources: ['p1'] })), sources: [peer.source()] }));
    cleanup.push(() => control.stop());
    const d = await daemonWith(control, { files: [{ fileId: 't1.old', bytes: 10_000, tier: 'ssd' }] });

    await until('report shows both held', () => lastFill(control)?.heldBytes === 1_500_000);
    expect(control.manifestRequests[0]).toEqual({ status: 200, authorization: `Bearer ${CREDENTIAL}` });
    for (const f of files) {
      const res = await fetch(`${d.origin}/v1/f/${f.fileId}?t=${d.token()}`);
      expect(res.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), f.data)).toBe(0);
    }
    expect(lastFill(control)).toMatchObject({
      manifestVersion: 'v1', inWindow: true, wantedFiles: 2, wantedBytes: 1_500_000, blocked: null,
      bytesBySource: { peer: 1_500_000, tier: 0, origin: 0 },
    });
    // t1.old is not in the manifest: evicted once its replacements are in, and gone from the inventory
    await until('t1.old evicted', async () => (await fetch(`${d.origin}/v1/f/t1.old?t=${d.token()}`)).status === 404);

    const status = await json(fetch(`${d.admin}/v1/status`));
    expect(status.fill).toMatchObject({
      manifestVersion: 'v1', window: { open: true, timeZone: 'UTC' }, wanted: { files: 2, bytes: 1_500_000 },
      held: { files: 2 }, missing: { files: 0, bytes: 0 }, active: [], blocked: null,
    });

    const text = await d.metrics();
    expect(sample(text, 'edgebox_fill_bytes_total{level="peer"}')).toBe(1_500_000);
    expect(sample(text, 'edgebox_fill_files_total{level="peer"}')).toBe(2);
    expect(sample(text, 'edgebox_fill_missing_files')).toBe(0);
    expect(sample(text, 'edgebox_fill_downloads_in_flight')).toBe(0);
    expect(sample(text, 'edgebox_fill_blocked{reason="no_space"}')).toBe(0);
    const path = join(d.dir, 'metrics.txt');
    writeFileSync(path, text);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < ${path}`]);
    expect(stdout + stderr).not.toMatch(/error|should/i);
  });

  it('a new version named in a report reply is fetched; a restart without control fills misses from the saved manifest', async () => {
    const a = testFile('t1.a', 50_000);
    const b = testFile('t1.b', 60_000);
    const held = new Map([[a.fileId, a.data]]); // the peer gets t1.b later
    const peer = await source('p1', 'peer', held);
    const control = await startControlStub(manifest({ version: 'v1', files: [{ ...a, sources: ['p1'] }], sources: [peer.source()] }));
    cleanup.push(() => control.stop());
    const box = await mkdtemp(join(tmpdir(), 'edgebox-fill-box-'));
    cleanup.push(() => rm(box, { recursive: true, force: true }));
    const own = { stateDir: join(box, 'state'), storage: [{ path: join(box, 'ssd'), type: 'ssd' }] };
    const d = await daemonWith(control, { settings: own });
    await until('v1 filled', () => lastFill(control)?.heldBytes === 50_000);
    expect(control.manifestRequests.filter((r) => r.status === 200)).toHaveLength(1); // not fetched again while current

    control.manifest = manifest({ version: 'v2', files: [{ ...a, sources: ['p1'] }, { ...b, sources: ['p1'] }], sources: [peer.source()] });
    await until('v2 taken on', () => lastFill(control)?.manifestVersion === 'v2' && lastFill(control)?.badSources.length === 1);
    expect(lastFill(control)?.badSources[0]).toMatchObject({ sourceId: 'p1', fileId: 't1.b', reason: 'http_error' });
    await d.stop();

    // control is gone; the box restarts, and the peer now has t1.b
    // scheduled fill waits for control meanwhile (the plan may be stale), but the saved manifest
    // is known: a viewer's request for t1.b is a miss, filled from the saved manifest's source
    await control.stop();
    held.set(b.fileId, b.data);
    const again = await daemonWith(control, { settings: own });
    expect((await json(fetch(`${again.admin}/v1/status`))).fill).toMatchObject({ manifestVersion: 'v2' });
    const res = await fetch(`${again.origin}/v1/f/${b.fileId}?t=${again.token()}`);
    expect(res.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), b.data)).toBe(0);
    await until('the miss filled t1.b', async () => (await json(fetch(`${again.admin}/v1/status`))).fill.filesBySource.peer === 1);
  });

  it('with no manifest yet, control going away blocks fill (control_unreachable) and degrades health; serving goes on', async () => {
    const control = await startControlStub(null); // no plan for the box yet: 404
    cleanup.push(() => control.stop());
    const d = await daemonWith(control, {
      files: [{ fileId: 't1.kept', bytes: 10_000, tier: 'ssd' }],
      settings: { ...fillDaemonSettings(control, { manifestRefreshMs: 300 }) },
    });
    await until('reported', () => control.reports.length > 2);
    expect(lastFill(control)).toMatchObject({ blocked: null, wantedFiles: 0 });
    expect(lastFill(control)?.manifestVersion).toBeUndefined();
    expect((await json(fetch(`${d.admin}/v1/status`))).fill).toMatchObject({ manifestVersion: null, blocked: null });

    await control.stop();
    const reason = 'fill blocked: no fill manifest (control unreachable)';
    await until('health names it', async () => (await json(fetch(`${d.admin}/v1/health`))).reasons.includes(reason));
    expect((await json(fetch(`${d.admin}/v1/status`))).fill.blocked).toBe('control_unreachable');
    expect(sample(await d.metrics(), 'edgebox_fill_blocked{reason="control_unreachable"}')).toBe(1);
    const res = await fetch(`${d.origin}/v1/f/t1.kept?t=${d.token()}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
