// A full disk stops filling, and nothing else: on a small real tmpfs the disk fills up under a
// running download (real ENOSPC), fill reports blocked 'no_space' (report, /v1/status, /metrics,
// health degraded), the partial is dropped to give the room back, what the box holds is still
// served, and fill tries again with the next manifest. Needs root for mount(8): fails without it.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { json, sample, startDaemon } from '../daemon/harness.ts';
import { fillDaemonSettings, startControlStub } from './helpers/control-stub.ts';
import { until } from './helpers/engine.ts';
import { manifest, requestsFor, startSource, testFile } from './helpers/source-server.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it('a disk that fills up under a download stops fill (blocked no_space, reported, degraded) and keeps serving; the next manifest retries', async () => {
  // 72 MiB: the harness publishes t1.kept through a store with the default 64 MiB reserve; the
  // daemon itself runs with no reserve
  const mnt = await mkdtemp(join(tmpdir(), 'edgebox-fill-tmpfs-'));
  cleanup.push(() => rm(mnt, { recursive: true, force: true }));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=72m', 'tmpfs', mnt]);
  cleanup.push(async () => execFileSync('umount', ['-l', mnt]));

  const big = testFile('t1.big', 2_000_000);
  // the source sends the first 500 kB, then waits until the disk is full
  const peer = await startSource('p1', 'peer', new Map([[big.fileId, big.data]]), { holdAfter: 500_000 });
  cleanup.push(() => peer.close());
  const plan = (version: string) => manifest({ version, files: [{ ...big, sources: ['p1'] }], sources: [peer.source()] });
  const control = await startControlStub(plan('v1'));
  cleanup.push(() => control.stop());
  const d = await startDaemon({
    files: [{ fileId: 't1.kept', bytes: 200_000, tier: 'ssd' }],
    settings: { ...fillDaemonSettings(control), storage: [{ path: mnt, type: 'ssd' }] },
  });
  cleanup.push(() => d.stop());
  const status = async () => (await json(fetch(`${d.admin}/v1/status`))).fill;

  await until('download under way', async () => ((await status())?.active[0]?.written ?? 0) > 0);
  // something else on the box takes the rest of the filesystem, then the rest of the file comes
  await writeFile(join(mnt, 'filler'), Buffer.alloc(72 * 1024 * 1024)).catch(() => {});
  peer.release();

  await until('report says blocked: no_space', () => control.reports.at(-1)?.fill?.blocked === 'no_space');
  const s = await status();
  expect(s).toMatchObject({ blocked: 'no_space', active: [], missing: { files: 1 } });
  // health is reassessed every second
  const reason = 'fill blocked: no room on disk for the files control wants here';
  await until('health names it', async () => (await json(fetch(`${d.admin}/v1/health`))).reasons.includes(reason));
  expect((await json(fetch(`${d.admin}/v1/health`))).status).toBe('degraded');
  expect(sample(await d.metrics(), 'edgebox_fill_blocked{reason="no_space"}')).toBe(1);
  expect(await readdir(join(mnt, '.tmp'))).toEqual([]); // the partial went, giving its room back

  // serving goes on
  const served = await fetch(`${d.origin}/v1/f/t1.kept?t=${d.token()}`);
  expect(served.status).toBe(200);
  expect(Buffer.compare(Buffer.from(await served.arrayBuffer()), d.files.get('t1.kept')!.data)).toBe(0);

  // blocked means stopped: no new tries while more reports go by
  const tries = requestsFor(peer, big.fileId).length;
  const seen = control.reports.length;
  await until('three more reports', () => control.reports.length >= seen + 3);
  expect(requestsFor(peer, big.fileId)).toHaveLength(tries);

  // the operator frees the disk and control publishes a new manifest: fill tries again
  await rm(join(mnt, 'filler'));
  control.manifest = plan('v2');
  await until('filled after the new manifest', () => control.reports.at(-1)?.fill?.heldBytes === big.data.length);
  expect(control.reports.at(-1)?.fill?.blocked).toBeNull();
  const res = await fetch(`${d.origin}/v1/f/${big.fileId}?t=${d.token()}`);
  expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), big.data)).toBe(0);
});
