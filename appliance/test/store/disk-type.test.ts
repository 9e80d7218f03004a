// Rotational detection: path → device major:minor → /sys/dev/block/M:m → queue/rotational (the
// parent disk's for a partition), with an 'ssd' fallback that says why. Uses a fake /sys tree for
// the cases this machine's disks cannot show, and the real one for the machine's own answer.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { detectDiskType, splitDev } from '../../src/store/disk-type.ts';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'edgebox-disk-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

it('splits Linux dev_t into major and minor', () => {
  expect(splitDev(0x0801)).toEqual({ major: 8, minor: 1 });
  expect(splitDev(259 << 8)).toEqual({ major: 259, minor: 0 });
  expect(splitDev(0x100800)).toEqual({ major: 8, minor: 256 });
  expect(splitDev(0)).toEqual({ major: 0, minor: 0 });
});

it('reads queue/rotational for a disk and for a partition (from its parent disk)', async () => {
  const { major, minor } = splitDev((await stat(base)).dev);
  if (major === 0) {
    const r = await detectDiskType(base, join(base, 'sys'));
    expect(r).toMatchObject({ type: 'ssd' });
    expect(r.reason).toMatch(/no block device/);
    return;
  }
  const sys = join(base, 'sys');
  const disk = join(sys, 'devices', 'virtual', 'sdz');
  await mkdir(join(disk, 'queue'), { recursive: true });
  await mkdir(join(disk, 'sdz1'), { recursive: true });
  await mkdir(join(sys, 'dev', 'block'), { recursive: true });
  const link = join(sys, 'dev', 'block', `${major}:${minor}`);

  // missing entry: fallback with a reason
  let r = await detectDiskType(base, sys);
  expect(r).toMatchObject({ type: 'ssd', device: `${major}:${minor}` });
  expect(r.reason).toMatch(/not found/);

  await symlink(join(disk, 'sdz1'), link); // a partition: no queue/ of its own
  await writeFile(join(disk, 'queue', 'rotational'), '1\n');
  r = await detectDiskType(base, sys);
  expect(r.type).toBe('hdd');
  expect(r.reason).toContain('rotational = 1');
  await writeFile(join(disk, 'queue', 'rotational'), '0\n');
  expect((await detectDiskType(base, sys)).type).toBe('ssd');
});

it("agrees with this machine's /sys for a real directory", async () => {
  const { major, minor } = splitDev((await stat(base)).dev);
  const r = await detectDiskType(base);
  const dev = `/sys/dev/block/${major}:${minor}`;
  if (major === 0 || !existsSync(dev)) {
    expect(r.type).toBe('ssd');
    return;
  }
  const dir = realpathSync(dev);
  const file = existsSync(join(dir, 'queue/rotational')) ? join(dir, 'queue/rotational') : join(dir, '../queue/rotational');
  expect(r.type).toBe(readFileSync(file, 'utf8').trim() === '1' ? 'hdd' : 'ssd');
});
