// The appliance image end to end, under qemu (TCG): build the disk and two update bundles (one
// whose daemon exits at start: a setting it refuses, put in by the test build only), then boot one box with the unattended config on the EFI
// partition and a real control on loopback, reading its serial console: UEFI first boot and the
// turn-up checks on slot A, an update to slot B whose trial boot runs under BIOS and commits, then
// an update whose daemon fails, tried on slot A under UEFI, that rolls back to B — the BIOS boot
// back on B prints the console status block (health, sysctls, turn-up, update state) and powers
// off. qemu exits at each guest reboot and the next boot takes the other firmware, so both boot
// paths are covered in four boots. The timings (wall and qemu CPU seconds) are printed at the end.
// Needs root and Debian's mmdebstrap, qemu-system-x86, ovmf, syslinux, mtools, dosfstools,
// fdisk, zstd and socat (.ci/run installs them); a missing one fails the test, it never skips.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControl, type RunningControl } from '../../control/src/server.ts';
import { loadSettings } from '../../control/src/settings.ts';
import { DEFAULT_CACHE_DIR } from '../build/base.ts';
import { buildImage, type BuildResult } from '../build/main.ts';
import { serveDirectory, type StaticServer } from './helpers/static-server.ts';
import { Machine, OVMF_CODE, OVMF_VARS, type Line } from './helpers/qemu.ts';

const OPERATOR = 'operator-token-image-test-0123';
const TOOLS = ['mmdebstrap', 'qemu-system-x86_64', 'mkfs.vfat', 'mcopy', 'syslinux', 'sfdisk', 'mkfs.ext4', 'zstd', 'socat'];
const V1 = '1.0.0-ci.1', V2 = '1.0.0-ci.2', V3 = '1.0.0-ci.3';
const VERBOSE = process.env.EDGEBOX_IMAGE_TEST_VERBOSE === '1';
const MIN = 60_000;

function missingTools(): string[] {
  const missing = TOOLS.filter((t) => { try { execFileSync('sh', ['-c', `command -v ${t}`]); return false; } catch { return true; } });
  if (!OVMF_CODE.some(existsSync) || !OVMF_VARS.some(existsSync)) missing.push('ovmf');
  if (process.getuid?.() !== 0) missing.push('root');
  return missing;
}

describe('appliance image under qemu', () => {
  let work: string;
  let control: RunningControl;
  let bundles: StaticServer;
  let built: BuildResult;
  const machines: Machine[] = [];
  const timings: Record<string, number | string | { wallS: number; qemuCpuS: number }> = {};
  const op = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(control.url + path, {
      method, headers: { authorization: `Bearer ${OPERATOR}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const target = (v: string) => op('PUT', '/v1/sites/ci/image', { version: v, manifestUrl: `http://10.0.2.101/bundle-${v}/manifest.json` });

  beforeAll(async () => {
    const missing = missingTools();
    if (missing.length > 0) throw new Error(`the image test needs ${missing.join(', ')} (bash .ci/run installs the Debian packages)`);
    work = await mkdtemp(join(tmpdir(), 'edgebox-image-test-'));
    control = await startControl(loadSettings({
      port: 0, host: '127.0.0.1', dbPath: join(work, 'control.db'), logLevel: 'silent', operatorToken: OPERATOR, packagerToken: 'packager-token-0123456789',
      urlTokenKid: 'k1', urlTokenSecret: 'url-token-secret-0123456789', kek: 'ab'.repeat(32), originUrl: 'http://origin.test', reportIntervalMs: 5_000,
    }, {}), { log: pino({ level: 'silent' }) });
    // all-day fill window: the update may download as soon as it sees the target
    await op('PUT', '/v1/sites/ci', { kind: 'embedded', region: 'eu', timeZone: 'UTC', fillWindow: { start: '00:00', end: '00:00' } });
    const { enrollmentToken } = await op('POST', '/v1/enrollment-tokens', { siteId: 'ci' });
    const unattended = join(work, 'edgebox.json');
    await writeFile(unattended, JSON.stringify({
      name: 'ci-box', interface: 'auto',
      ipv4: { address: '10.0.2.15/24', gateway: '10.0.2.2' },
      ipv6: { address: 'fd00:eb::15/64', gateway: 'fd00:eb::2' },
      ntp: [], bgp: { waive: true },
      controlUrl: 'http://10.0.2.100', enrollmentToken,
      tokenKeys: { k1: 'url-token-secret-0123456789' },
      update: { pollIntervalSec: 5, healthDeadlineSec: 600, failingGraceSec: 30 },
    }));
    const t0 = Date.now();
    built = await buildImage({
      version: V1, outDir: join(work, 'out'), cacheDir: process.env.EDGEBOX_IMAGE_CACHE ?? DEFAULT_CACHE_DIR, unattended,
      extraBundles: [{ version: V2 }, { version: V3, fault: { daemonExitsAtStart: true } }],
      espExtra: { 'edgebox/smoke': 'power off once settled\n' }, bundle: false, quiet: !VERBOSE,
    });
    timings.buildMs = Date.now() - t0;
    timings.buildLoad = Math.round(loadavg()[0] * 10) / 10;
    // a disk bigger than the image, as an ISP's would be: first boot grows the data partition
    await truncate(built.disk, (await stat(built.disk)).size + 1024 ** 3);
    bundles = await serveDirectory(join(work, 'out'));
    await target(V2);
  }, 40 * MIN);

  afterAll(async () => {
    for (const m of machines) m.kill();
    await bundles?.close();
    await control?.close();
    if (work) await rm(work, { recursive: true, force: true });
    process.stdout.write(`image test timings (load ${loadavg().map((l) => l.toFixed(1)).join(' ')}): ${JSON.stringify(timings)}\n`);
  });

  /** One box: UEFI first boot (slot A), BIOS for the trial of slot B, UEFI for the trial of A, BIOS back on B. */
  const FIRMWARES = ['uefi', 'bios', 'uefi', 'bios'] as const;
  const machine = () => {
    const m = new Machine({
      disk: built.disk, firmwares: [...FIRMWARES], workDir: work,
      forwards: [{ guest: '10.0.2.100:80', hostPort: Number(new URL(control.url).port) }, { guest: '10.0.2.101:80', hostPort: bundles.port }],
      log: VERBOSE ? (n, fw, l) => process.stdout.write(`[boot ${n} ${fw}] ${l}\n`) : undefined,
    });
    machines.push(m);
    return m;
  };

  /** The console status block printed after line `from`, as { key: rest-of-line }. */
  const statusBlock = async (m: Machine, from: number, timeoutMs: number) => {
    const begin = await m.waitFor(/^EDGEBOX-STATUS-BEGIN/, timeoutMs, from);
    const at = m.lines.indexOf(begin);
    await m.waitFor(/^EDGEBOX-STATUS-END/, 30_000, at);
    const out: Record<string, string> = {};
    for (const l of m.lines.slice(at + 1)) {
      if (l.text.startsWith('EDGEBOX-STATUS-END')) break;
      const kv = /^sysctl ([^=]+)=(.*)$/.exec(l.text) ?? /^(\S+) ?(.*)$/.exec(l.text);
      if (kv) out[kv[1]] = kv[2];
    }
    return { out, line: begin };
  };

  it('first boot (UEFI), update to slot B (BIOS trial), a failing update (UEFI trial) rolls back (BIOS)', async () => {
    const m = machine();
    // wall seconds and qemu CPU seconds between two console lines (CPU: what compares under load)
    const cpuAt = (l: Line & { boot: number }) => m.boots.slice(0, l.boot).reduce((s, b) => s + b.vm.cpu(), 0) + l.cpu;
    const span = (name: string, a: Line & { boot: number }, b: Line & { boot: number }) => {
      timings[name] = { wallS: Math.round((b.at - a.at) / 100) / 10, qemuCpuS: Math.round((cpuAt(b) - cpuAt(a)) * 10) / 10 };
    };
    const start = { at: m.boots[0].vm.started, cpu: 0, boot: 0, text: '' };
    try {
      // boot 1, UEFI, slot A (V1): the unattended config, then the turn-up checks
      const turnup = await m.waitFor(/edgebox turn-up: all checks passed/, 15 * MIN);
      span('boot1ToTurnup', start, turnup);
      const first = m.text(0);
      expect(first).toMatch(/edgebox: site config taken from edgebox\.json on the EFI partition \(ci-box\)/);
      expect(first).toMatch(/edgebox turn-up: PASS interfaces: \S+ up with 10\.0\.2\.15\/24, fd00:eb::15\/64/);
      expect(first).toMatch(/edgebox turn-up: PASS store: \/data\/store writable/);
      expect(first).toMatch(/edgebox turn-up: PASS control: reachable; enrolled as app-/);
      expect(first).toMatch(/edgebox turn-up: WAIVED bgp/);

      // update 1: V1 (slot A) → V2 (slot B), tried on a BIOS boot and committed once healthy
      const dl = await m.waitFor(new RegExp(`edgebox update: downloading ${V2}`), 10 * MIN);
      const got = await m.waitFor(new RegExp(`edgebox update: ${V2.replace(/\./g, '\\.')} downloaded and verified`), 15 * MIN);
      const staged = await m.waitFor(new RegExp(`edgebox update: staged ${V2}`), 15 * MIN);
      span('download', dl, got);
      span('writeSlot', got, staged);
      const trying = await m.waitFor(new RegExp(`edgebox update: trying ${V2}`), 15 * MIN);
      expect(trying.boot).toBe(1);
      span('rebootToTrying', staged, trying);
      // the operator stages the next version while the box is still trying this one
      await target(V3);
      const committed = await m.waitFor(new RegExp(`edgebox update: committed ${V2}`), 10 * MIN);
      expect(committed.boot).toBe(1);
      span('trialToCommit', trying, committed);
      span('update', dl, committed);

      // update 2: V3's daemon exits at start (a setting it refuses) → recorded, back to slot B
      const dl3 = await m.waitFor(new RegExp(`edgebox update: downloading ${V3}`), 10 * MIN);
      const trying3 = await m.waitFor(new RegExp(`edgebox update: trying ${V3}`), 15 * MIN);
      expect(trying3.boot).toBe(2);
      const rolled = await m.waitFor(new RegExp(`edgebox update: rolled-back ${V3} .*not healthy: the daemon exited at start`), 15 * MIN);
      expect(rolled.boot).toBe(2);
      expect(rolled.text).toContain('EDGEBOX_LISTEN');
      span('trialToRollback', trying3, rolled);
      const { out: status, line: statusLine } = await statusBlock(m, m.lines.indexOf(rolled), 15 * MIN);
      expect(statusLine.boot).toBe(3);
      span('rollbackToStatus', rolled, statusLine);
      span('rollback', dl3, statusLine);
      span('total', start, statusLine);
      expect(await m.ended).toBe('poweroff');
      expect(m.boots.map((b) => b.firmware)).toEqual(FIRMWARES);

      // the last boot's own account (systemd-analyze), for the timings line
      timings.boot4Stages = status.boot ?? '';
      timings.boot4Slowest = status.slowest ?? '';
      expect(status.version).toBe(`${V2} slot b`);
      expect(JSON.parse(status.turnup)).toMatchObject({ passed: true, version: V2 });
      const health = JSON.parse(status.health);
      expect(health.http).toBe(200);
      expect(['ok', 'degraded']).toContain(health.status);
      expect(status['net.ipv4.tcp_congestion_control']).toBe('bbr');
      expect(status['net.core.default_qdisc']).toBe('fq');
      expect(status['net.core.somaxconn']).toBe('65535');
      expect(status['net.ipv4.ip_local_port_range']).toBe('10240 65535');
      expect(status.daemon).toMatch(/LimitNOFILE=1048576/);
      expect(status.daemon).toMatch(/User=edgebox/);
      expect(Number(status.data.split(' ')[0])).toBeGreaterThan(1024); // grown past the image's 512 MiB
      const upd = JSON.parse(status.update);
      expect(upd.committed).toBe('b');
      expect(upd.slots).toEqual({ a: { version: V3 }, b: { version: V2 } });
      expect(upd.failed[V3]).toMatch(/^not healthy: the daemon exited at start with status 2 and was not restarted: .*EDGEBOX_LISTEN/);

      // control saw it all: the turn-up result, the commit and the rollback with its reason
      const site = await op('GET', '/v1/sites/ci/image');
      const box = site.appliances[0];
      expect(box.turnup).toMatchObject({ passed: true });
      expect(box.status).toMatchObject({ state: 'rolled-back', targetVersion: V3, currentVersion: V2, slot: 'b' });
      expect(box.status.reason).toBe(upd.failed[V3]);
      const states = box.history.map((h: { state: string; targetVersion: string }) => `${h.state} ${h.targetVersion}`);
      expect(states).toEqual(expect.arrayContaining([`downloading ${V2}`, `staged ${V2}`, `trying ${V2}`, `committed ${V2}`, `trying ${V3}`, `rolled-back ${V3}`]));
    } finally {
      m.kill();
    }
  }, 90 * MIN);
});
