// One root filesystem (what a slot holds): the cached Debian base, the app layer, the units
// enabled, then an ext4 image made from the directory with `mkfs.ext4 -d` (no loop device, no
// mount). The same image goes into slot A of the disk and into the update bundle.

import { mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addAppLayer, type AppLayerInfo } from './app-layer.ts';
import { unpackBase } from './base.ts';
import { run } from './exec.ts';

/** Our units, enabled in multi-user.target; plus systemd-networkd, which Debian leaves off. */
const ENABLE = ['edgebox-setup.service', 'edgebox-turnup.service', 'edgebox-appliance.service', 'edgebox-update.service', 'edgebox-console.service'];
/** Debian timers that would reach for the network behind the image's back: updates come as images. */
const MASK = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'apt-daily.service', 'apt-daily-upgrade.service', 'e2scrub_all.timer', 'e2scrub_reap.service'];

async function link(target: string, path: string): Promise<void> {
  await rm(path, { force: true });
  await symlink(target, path);
}

export interface RootfsFault {
  /**
   * The image test only (never a release build): the bundle's daemon unit carries a setting the
   * daemon refuses (EDGEBOX_LISTEN is not host:port), so the real daemon exits at start with its
   * bad-config status and systemd does not restart it — a broken build no enrollment or control
   * reply can repair. Its trial must end in a rollback with the daemon's message as the reason.
   */
  daemonExitsAtStart?: boolean;
}

/** The bad setting of the test's faulty bundle (see RootfsFault). */
export const FAULT_LISTEN = 'ci-fault-not-host-port';

export interface RootfsInfo extends AppLayerInfo {
  /** the kernel and initramfs, moved out of the root filesystem (they boot from the EFI partition) */
  kernel: string;
  initrd: string;
}

/**
 * The kernel and initramfs go to the EFI partition (the disk) and beside the root filesystem in a
 * bundle, never from /boot: keeping them in the slot too only made every update write 35 MiB more.
 */
async function takeKernel(dir: string): Promise<{ kernel: string; initrd: string }> {
  const out = `${dir}.boot`;
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const boot = await readdir(join(dir, 'boot'));
  const found: Record<string, string> = {};
  for (const [prefix, name] of [['vmlinuz-', 'vmlinuz'], ['initrd.img-', 'initrd.img']] as const) {
    const f = boot.filter((n) => n.startsWith(prefix));
    if (f.length !== 1) throw new Error(`the base's /boot holds ${f.length} ${prefix}* files, expected 1`);
    found[name] = join(out, name);
    await rename(join(dir, 'boot', f[0]), found[name]);
    for (const link of [name, `${name}.old`]) await rm(join(dir, link), { force: true });
  }
  return { kernel: found.vmlinuz, initrd: found['initrd.img'] };
}

export async function assembleRootfs(dir: string, baseTarball: string, version: string, keys: Record<string, string>, fault: RootfsFault = {}): Promise<RootfsInfo> {
  await rm(dir, { recursive: true, force: true });
  await unpackBase(baseTarball, dir);
  const info = { ...await addAppLayer(dir, version, keys), ...await takeKernel(dir) };
  // mount points of the shared partitions (fstab)
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'boot/efi'), { recursive: true });
  const sys = join(dir, 'etc/systemd/system');
  await mkdir(join(sys, 'multi-user.target.wants'), { recursive: true });
  await mkdir(join(sys, 'sockets.target.wants'), { recursive: true });
  for (const u of ENABLE) await link(`/etc/systemd/system/${u}`, join(sys, 'multi-user.target.wants', u));
  await mkdir(join(sys, 'local-fs-pre.target.wants'), { recursive: true });
  await link('/etc/systemd/system/edgebox-grow-data.service', join(sys, 'local-fs-pre.target.wants/edgebox-grow-data.service'));
  await link('/lib/systemd/system/systemd-networkd.service', join(sys, 'multi-user.target.wants/systemd-networkd.service'));
  await link('/lib/systemd/system/systemd-networkd.socket', join(sys, 'sockets.target.wants/systemd-networkd.socket'));
  for (const u of MASK) await link('/dev/null', join(sys, u));
  // persistent journal on /data; a fresh machine id per slot on its first boot
  await rm(join(dir, 'var/log/journal'), { recursive: true, force: true });
  await symlink('/data/journal', join(dir, 'var/log/journal'));
  await writeFile(join(dir, 'etc/machine-id'), '');
  await rm(join(dir, 'var/lib/dbus/machine-id'), { force: true });
  await writeFile(join(dir, 'etc/hostname'), 'edgebox\n');
  if (fault.daemonExitsAtStart) {
    const d = join(sys, 'edgebox-appliance.service.d');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'fault.conf'), `# image test only: a build whose daemon exits at start (a setting it refuses)\n[Service]\nEnvironment=EDGEBOX_LISTEN=${FAULT_LISTEN}\n`);
  }
  return info;
}

/** Bytes and inodes a directory tree needs. */
async function usage(dir: string): Promise<{ bytes: number; inodes: number }> {
  const out = await run('du', ['-s', '--block-size=1', '-x', dir]);
  const bytes = Number(out.split(/\s/)[0]);
  const inodes = Number((await run('sh', ['-c', `find "${dir}" -xdev | wc -l`])).trim());
  return { bytes, inodes };
}

/**
 * An ext4 image of `dir`, sized to its content plus a little room (first boot grows the
 * filesystem to its slot with resize2fs). Every byte of it is hashed, decompressed and written by
 * each update, so the room is kept small: 4 % over the content, the inode tables and 40 MiB for
 * the journal and metadata (572 MiB of content gives 644 MiB; mkfs.ext4 -d still fits it in
 * 612 MiB). Returns the image's size in bytes.
 */
export async function makeRootfsImage(dir: string, image: string, label: string): Promise<number> {
  const u = await usage(dir);
  const mib = 1024 * 1024;
  const inodes = Math.ceil(u.inodes * 1.5) + 16384;
  const size = Math.ceil((u.bytes * 1.04 + inodes * 256 + 40 * mib) / (4 * mib)) * 4 * mib;
  await rm(image, { force: true });
  await run('mkfs.ext4', ['-q', '-F', '-L', label, '-N', String(inodes), '-m', '1',
    '-E', 'lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0', '-d', dir, image, `${size / 1024}k`]);
  return (await stat(image)).size;
}
