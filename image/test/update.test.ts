// The updater against a real control and a real bundle server, with files standing in for the
// slot partitions and a directory for the EFI partition; the clock and the daemon's health are
// injected. The qemu test (image.test.ts) runs the same code on a booted box.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImageSigningKey, verifyImageManifest } from '../../protocol/index.ts';
import { addSite, enroll, OPERATOR, startTestControl, type Ctx, type Enrolled } from '../../control/test/helpers.ts';
import { writeBundle } from '../build/bundle.ts';
import { bootFiles, type Slot } from '../update/boot-entries.ts';
import { writeImage } from '../update/slot-writer.ts';
import { trialVerdict } from '../update/trial.ts';
import { Updater, type UpdaterEnv } from '../update/updater.ts';
import { serveDirectory, type StaticServer } from './helpers/static-server.ts';

const KEY = generateImageSigningKey('test-1');
const ROGUE = generateImageSigningKey('test-1'); // same kid, another key

describe('boot entries', () => {
  const entries = [{ slot: 'a' as Slot, version: '1.0', partuuid: 'aaaa' }, { slot: 'b' as Slot, version: '1.1', partuuid: 'bbbb' }];
  it('a trial boots the new slot next while the committed copies name the old one', () => {
    const f = bootFiles('b', 'a', entries);
    expect(f['loader/loader.conf']).toContain('default edgebox-b.conf');
    expect(f['edgebox/committed/loader.conf']).toContain('default edgebox-a.conf');
    expect(f['syslinux.cfg']).toMatch(/^DEFAULT b$/m);
    expect(f['edgebox/committed/syslinux.cfg']).toMatch(/^DEFAULT a$/m);
    expect(f['loader/entries/edgebox-b.conf']).toContain('options root=PARTUUID=bbbb');
    expect(f['loader/entries/edgebox-b.conf']).toMatch(/edgebox\.slot=b$/m);
    expect(f['syslinux.cfg']).toContain('APPEND root=PARTUUID=aaaa');
  });
});

describe('slot write', () => {
  it('decompresses onto the slot, refuses a damaged file and a size other than the manifest\'s', async () => {
    const d = await mkdtemp(join(tmpdir(), 'edgebox-slot-'));
    try {
      const img = Buffer.concat([Buffer.from('ext4 stand-in\n'), Buffer.alloc(5 << 20, 7)]);
      await writeFile(join(d, 'rootfs.img'), img);
      execFileSync('zstd', ['-q', '-f', join(d, 'rootfs.img'), '-o', join(d, 'rootfs.img.zst')]);
      // the slot is larger than the image and keeps what lies past it
      await writeFile(join(d, 'slot'), Buffer.alloc(8 << 20, 1));
      await writeImage(join(d, 'rootfs.img.zst'), join(d, 'slot'), { bytes: img.length });
      const slot = readFileSync(join(d, 'slot'));
      expect(slot.length).toBe(8 << 20);
      expect(slot.subarray(0, img.length).equals(img)).toBe(true);
      expect(slot[img.length]).toBe(1);
      await expect(writeImage(join(d, 'rootfs.img.zst'), join(d, 'slot'), { bytes: img.length + 1 })).rejects.toThrow(/written is \d+ bytes; the manifest says/);
      const zst = readFileSync(join(d, 'rootfs.img.zst'));
      zst[zst.length - 2] ^= 0xff; // inside the frame checksum
      await writeFile(join(d, 'bad.zst'), zst);
      await expect(writeImage(join(d, 'bad.zst'), join(d, 'slot'), { bytes: img.length })).rejects.toThrow(/zstd -d .*exit 1/);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('trial verdict', () => {
  const healthy = { turnupPassed: true, daemonHealth: { status: 'degraded', reasons: ['the store holds no files'] }, controlReached: true };
  it.each([
    ['healthy before the deadline', { ...healthy, now: 10, deadline: 100 }, 'commit'],
    ['healthy even at the deadline', { ...healthy, now: 100, deadline: 100 }, 'commit'],
    ['failing daemon before the deadline', { ...healthy, daemonHealth: { status: 'failing', reasons: ['x'] }, now: 10, deadline: 100 }, 'wait'],
    ['failing daemon at the deadline', { ...healthy, daemonHealth: { status: 'failing', reasons: ['x'] }, now: 100, deadline: 100 }, 'rollback'],
    ['turn-up failed at the deadline', { ...healthy, turnupPassed: false, now: 101, deadline: 100 }, 'rollback'],
    ['control not reached yet', { ...healthy, controlReached: false, now: 10, deadline: 100 }, 'wait'],
    ['failing for less than the grace period', { ...healthy, daemonHealth: { status: 'failing', reasons: ['x'] }, failingSince: 5, failingGraceMs: 30, now: 20, deadline: 100 }, 'wait'],
    ['failing for the grace period, before the deadline', { ...healthy, daemonHealth: { status: 'failing', reasons: ['x'] }, failingSince: 5, failingGraceMs: 30, now: 35, deadline: 100 }, 'rollback'],
    ['no answer yet, past the grace period (a slow start)', { ...healthy, daemonHealth: null, failingSince: null, failingGraceMs: 30, now: 90, deadline: 100 }, 'wait'],
    ['no answer, the unit restarted twice (may still start)', { ...healthy, daemonHealth: null, daemonUnit: { failed: false, restarts: 2, exitStatus: 1, lastLine: 'x' }, now: 10, deadline: 100 }, 'wait'],
    ['no answer, the unit restarted three times', { ...healthy, daemonHealth: null, daemonUnit: { failed: false, restarts: 3, exitStatus: 1, lastLine: 'x' }, now: 10, deadline: 100 }, 'rollback'],
    ['no answer, the unit failed (not restarted)', { ...healthy, daemonHealth: null, daemonUnit: { failed: true, restarts: 0, exitStatus: 2, lastLine: 'x' }, now: 10, deadline: 100 }, 'rollback'],
  ])('%s', (_n, facts, verdict) => {
    expect(trialVerdict(facts).verdict).toBe(verdict);
  });
});

describe('updater against control and a bundle server', () => {
  let ctx: Ctx;
  let box: Enrolled;
  let dir: string;
  let server: StaticServer;
  const clock = { t: Date.UTC(2026, 0, 10, 3, 0) }; // 03:00 UTC, inside a 02:00–14:00 window
  const rootfs = (v: string) => Buffer.concat([Buffer.from(`rootfs of ${v}\n`), Buffer.alloc(256 * 1024, v.length)]);

  beforeAll(async () => {
    ctx = await startTestControl();
    await addSite(ctx, 's1');
    box = await enroll(ctx, 's1', 'box-u');
    dir = await mkdtemp(join(tmpdir(), 'edgebox-updater-'));
    for (const [v, key] of [['2.0', KEY], ['3.0', KEY], ['6.6', ROGUE]] as const) {
      const src = join(dir, 'src', v);
      await mkdir(src, { recursive: true });
      await writeFile(join(src, 'rootfs.img'), rootfs(v));
      await writeFile(join(src, 'vmlinuz'), `kernel ${v}`);
      await writeFile(join(src, 'initrd.img'), `initrd ${v}`);
      await writeBundle(join(dir, 'bundles', v), { version: v, rootfsImage: join(src, 'rootfs.img'), kernel: join(src, 'vmlinuz'), initrd: join(src, 'initrd.img') }, key);
    }
    // a bundle whose rootfs was swapped after signing
    await writeBundle(join(dir, 'bundles', '4.0'), { version: '4.0', rootfsImage: join(dir, 'src', '2.0', 'rootfs.img'), kernel: join(dir, 'src', '2.0', 'vmlinuz'), initrd: join(dir, 'src', '2.0', 'initrd.img') }, KEY);
    await writeFile(join(dir, 'bundles', '4.0', 'rootfs.img.zst'), await readFile(join(dir, 'bundles', '3.0', 'rootfs.img.zst')));
    server = await serveDirectory(join(dir, 'bundles'));
    await mkdir(join(dir, 'esp'), { recursive: true });
    for (const s of ['a', 'b']) await writeFile(join(dir, `slot-${s}`), Buffer.alloc(512 * 1024));
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const events: string[] = [];
  const env = (slot: Slot, version: string, over: Partial<UpdaterEnv> = {}): UpdaterEnv => ({
    slot, version, bootId: `boot-${slot}-${version}`,
    paths: { esp: join(dir, 'esp'), state: join(dir, 'data', 'update-state.json'), downloads: join(dir, 'data', 'downloads'), turnupNow: join(dir, 'run', 'turnup.json') },
    keys: { [KEY.kid]: KEY.x },
    settings: { pollIntervalSec: 60, healthDeadlineSec: 60, failingGraceSec: 3600 },
    credential: async () => ({ controlUrl: ctx.url, applianceId: box.applianceId, credential: box.credential }),
    daemonHealth: async () => ({ status: 'degraded', reasons: ['the store holds no files'] }),
    daemonUnit: async () => null,
    slotDevice: async (s) => ({ device: join(dir, `slot-${s}`), partuuid: `uuid-${s}` }),
    stopDaemon: async () => { events.push('stop-daemon'); },
    reboot: async () => { events.push('reboot'); },
    say: () => {},
    now: () => clock.t,
    sleep: async (ms) => { clock.t += ms; },
    ...over,
  });
  const target = (v: string) => ctx.call('PUT', '/v1/sites/s1/image', { token: OPERATOR, body: { version: v, manifestUrl: `http://127.0.0.1:${server.port}/${v}/manifest.json` } });
  const history = async () => (await ctx.call('GET', '/v1/sites/s1/image', { token: OPERATOR })).body.appliances[0].history.map((h: { state: string; targetVersion: string }) => `${h.state} ${h.targetVersion}`);
  const esp = (rel: string) => readFileSync(join(dir, 'esp', rel), 'utf8');

  it('verifies the manifest signature and refuses one signed by another key', async () => {
    const bytes = await readFile(join(dir, 'bundles', '6.6', 'manifest.json'));
    const sig = await readFile(join(dir, 'bundles', '6.6', 'manifest.sig'), 'utf8');
    expect(verifyImageManifest(bytes, sig, { [KEY.kid]: KEY.x })).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyImageManifest(bytes, sig, { [ROGUE.kid]: ROGUE.x }).ok).toBe(true);
    expect(verifyImageManifest(bytes, sig, {})).toMatchObject({ ok: false, reason: 'unknown-key' });
  });

  it('outside the fill window it waits; inside it writes slot B, arms a one-time boot and reboots', async () => {
    await ctx.call('PUT', '/v1/sites/s1', { token: OPERATOR, body: { kind: 'embedded', region: 'eu', timeZone: 'UTC', fillWindow: { start: '02:00', end: '14:00' } } });
    await target('2.0');
    const u = new Updater(env('a', '1.0'));
    expect(await u.settle()).toBe('normal');
    clock.t = Date.UTC(2026, 0, 10, 20, 0);
    const wait = await u.pollOnce();
    expect(wait).toBe(60_000);
    expect(u.state.status?.state).toBe('waiting-window');
    clock.t = Date.UTC(2026, 0, 11, 3, 0);
    await u.pollOnce();
    expect(events.splice(0)).toEqual(['stop-daemon', 'reboot']);
    expect(readFileSync(join(dir, 'slot-b')).subarray(0, rootfs('2.0').length)).toEqual(rootfs('2.0'));
    expect(esp('b/vmlinuz')).toBe('kernel 2.0');
    expect(esp('edgebox/trial')).toBe('b');
    expect(esp('loader/loader.conf')).toContain('default edgebox-b.conf');
    expect(esp('edgebox/committed/syslinux.cfg')).toMatch(/^DEFAULT a$/m);
    expect(await history()).toEqual(['waiting-window 2.0', 'downloading 2.0', 'staged 2.0']);
  });

  it('the trial boot of B commits once healthy and reported', async () => {
    // what the initramfs hook does at the start of the trial boot
    await rm(join(dir, 'esp', 'edgebox/trial'));
    await writeFile(join(dir, 'esp', 'edgebox/trying'), 'b');
    await writeFile(join(dir, 'esp', 'loader/loader.conf'), esp('edgebox/committed/loader.conf'));
    await mkdir(join(dir, 'run'), { recursive: true });
    await writeFile(join(dir, 'run', 'turnup.json'), JSON.stringify({ passed: true }));
    const u = new Updater(env('b', '2.0'));
    expect(await u.settle()).toBe('trial');
    await u.runTrial();
    expect(u.state).toMatchObject({ committed: 'b', trial: null, slots: { a: { version: '1.0' }, b: { version: '2.0' } } });
    expect(existsSync(join(dir, 'esp', 'edgebox/trying'))).toBe(false);
    expect(esp('loader/loader.conf')).toContain('default edgebox-b.conf');
    expect(esp('syslinux.cfg')).toMatch(/^DEFAULT b$/m);
    expect((await history()).slice(-2)).toEqual(['trying 2.0', 'committed 2.0']);
  });

  it('a bundle whose rootfs does not match its signed manifest is refused and nothing is armed', async () => {
    await target('4.0');
    const u = new Updater(env('b', '2.0'));
    await u.settle();
    await u.pollOnce();
    expect(events).toEqual([]);
    expect(u.state.status).toMatchObject({ state: 'failed', targetVersion: '4.0' });
    expect(u.state.failed['4.0']).toMatch(/^bundle refused: rootfs\.img\.zst: sha256 /);
    expect(existsSync(join(dir, 'esp', 'edgebox/trial'))).toBe(false);
    // not retried: the next poll does nothing
    await u.pollOnce();
    expect(events).toEqual([]);
  });

  it('a trial whose daemon keeps failing rolls back at the deadline, and the version is not retried', async () => {
    await target('3.0');
    const staging = new Updater(env('b', '2.0'));
    await staging.settle();
    await staging.pollOnce();
    expect(events.splice(0)).toEqual(['stop-daemon', 'reboot']);
    expect(esp('edgebox/trial')).toBe('a');
    await rm(join(dir, 'esp', 'edgebox/trial'));
    await writeFile(join(dir, 'esp', 'edgebox/trying'), 'a');
    const start = clock.t;
    const trial = new Updater(env('a', '3.0', { daemonHealth: async () => ({ status: 'failing', reasons: ['no URL token keys configured: every file request is refused'] }) }));
    expect(await trial.settle()).toBe('trial');
    await trial.runTrial();
    expect(clock.t - start).toBeGreaterThanOrEqual(60_000);
    expect(events.splice(0)).toEqual(['stop-daemon', 'reboot']);
    expect(trial.state.committed).toBe('b');
    expect(trial.state.failed['3.0']).toMatch(/not healthy within the deadline: the daemon reports failing: no URL token keys/);
    expect(esp('loader/loader.conf')).toContain('default edgebox-b.conf');
    expect((await history()).slice(-2)).toEqual(['trying 3.0', 'rolled-back 3.0']);
    // back on B: nothing to settle, and 3.0 is not fetched again
    const back = new Updater(env('b', '2.0'));
    expect(await back.settle()).toBe('normal');
    // control's record now names what the box runs again
    expect(back.state.status).toMatchObject({ state: 'rolled-back', targetVersion: '3.0', currentVersion: '2.0', slot: 'b', reason: trial.state.failed['3.0'] });
    await back.pollOnce();
    expect(events).toEqual([]);
  });

  it('a trial whose daemon exits at start rolls back at once with the daemon\'s last words', async () => {
    await writeFile(join(dir, 'esp', 'edgebox/trying'), 'a');
    const start = clock.t;
    const unit = { failed: true, restarts: 0, exitStatus: 2, lastLine: 'edgebox-appliance: publicPort: expected a number' };
    const trial = new Updater(env('a', '3.1', { daemonHealth: async () => null, daemonUnit: async () => unit }));
    expect(await trial.settle()).toBe('trial');
    await trial.runTrial();
    expect(clock.t - start).toBeLessThan(60_000);
    expect(events.splice(0)).toEqual(['stop-daemon', 'reboot']);
    expect(trial.state.failed['3.1']).toBe('not healthy: the daemon exited at start with status 2 and was not restarted: edgebox-appliance: publicPort: expected a number');
    expect((await history()).slice(-1)).toEqual(['rolled-back 3.1']);
  });

  it('back on the committed slot after a trial that never reported, it records the rollback', async () => {
    await writeFile(join(dir, 'esp', 'edgebox/trying'), 'a');
    const u = new Updater(env('b', '2.0'));
    await u.settle();
    expect(u.state.status).toMatchObject({ state: 'rolled-back', currentVersion: '2.0', slot: 'b' });
    expect(existsSync(join(dir, 'esp', 'edgebox/trying'))).toBe(false);
  });

  it('a download the network interrupts is not held against the version: the next poll tries again', async () => {
    // nothing listens on port 1: the connection is refused
    await ctx.call('PUT', '/v1/sites/s1/image', { token: OPERATOR, body: { version: '5.0', manifestUrl: 'http://127.0.0.1:1/5.0/manifest.json' } });
    const u = new Updater(env('b', '2.0'));
    await u.settle();
    await u.pollOnce();
    expect(u.state.status).toMatchObject({ state: 'failed', targetVersion: '5.0' });
    expect(u.state.status?.reason).toMatch(/^download interrupted: .*ECONNREFUSED.*; trying again at the next poll$/);
    expect(u.state.failed['5.0']).toBeUndefined();
    await u.pollOnce();
    expect((await history()).slice(-4)).toEqual(['downloading 5.0', 'failed 5.0', 'downloading 5.0', 'failed 5.0']);
    expect(events).toEqual([]);
  });
});
