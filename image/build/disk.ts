// The raw disk an ISP writes: GPT with a protective MBR that boots BIOS machines (syslinux's
// gptmbr → syslinux on the EFI partition, marked legacy-BIOS-bootable) and UEFI machines
// (systemd-boot as EFI/BOOT/BOOTX64.EFI on the same partition), two root slots and a data
// partition. Made with sfdisk, mkfs.vfat + mtools + syslinux and mkfs.ext4 on plain files: no
// loop device and no mount.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bootFiles, type SlotEntry } from '../update/boot-entries.ts';
import { run } from './exec.ts';

const MIB = 1024 * 1024;
const SECTOR = 512;

export const GPT_TYPES = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  root: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
};

export const PARTITION_LABELS = { esp: 'edgebox-esp', a: 'edgebox-root-a', b: 'edgebox-root-b', data: 'edgebox-data' };

export interface DiskLayout {
  espMiB: number;
  slotMiB: number;
  dataMiB: number;
}

export const DEFAULT_LAYOUT: DiskLayout = { espMiB: 256, slotMiB: 2048, dataMiB: 512 };

const SYSLINUX_MBR = ['/usr/lib/syslinux/mbr/gptmbr.bin', '/usr/share/syslinux/gptmbr.bin'];

export interface DiskInput {
  path: string;
  version: string;
  rootfsImage: string;
  kernel: string;
  initrd: string;
  /** systemd-boot's EFI binary (from the rootfs, so it matches the image's Debian) */
  systemdBoot: string;
  /** optional files to put on the EFI partition (e.g. the unattended edgebox.json) */
  espExtra?: Record<string, string>;
  layout?: DiskLayout;
  workDir: string;
}

export interface DiskResult { path: string; bytes: number; partuuids: Record<'esp' | 'a' | 'b' | 'data', string> }

async function mtools(args: string[]): Promise<void> {
  await run(args[0], args.slice(1), { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}

/** A FAT32 EFI partition image holding the boot loaders, slot A's kernel and the boot config. */
async function makeEsp(file: string, sizeMiB: number, entries: SlotEntry[], input: DiskInput): Promise<void> {
  const stage = join(input.workDir, 'esp');
  await rm(stage, { recursive: true, force: true });
  const put = async (rel: string, content: string | { from: string }) => {
    const p = join(stage, rel);
    await mkdir(dirname(p), { recursive: true });
    if (typeof content === 'string') await writeFile(p, content);
    else await copyFile(content.from, p);
  };
  await put('EFI/BOOT/BOOTX64.EFI', { from: input.systemdBoot });
  await put('a/vmlinuz', { from: input.kernel });
  await put('a/initrd.img', { from: input.initrd });
  for (const [rel, text] of Object.entries(bootFiles('a', 'a', entries))) await put(rel, text);
  for (const [rel, text] of Object.entries(input.espExtra ?? {})) await put(rel, text);
  await rm(file, { force: true });
  await run('mkfs.vfat', ['-F', '32', '-n', 'EDGEBOX', '-C', file, String(sizeMiB * 1024)]);
  const top = ['EFI', 'a', 'loader', 'edgebox', 'syslinux.cfg', ...Object.keys(input.espExtra ?? {}).map((r) => r.split('/')[0])];
  await mtools(['mcopy', '-s', '-Q', '-i', file, ...[...new Set(top)].map((t) => join(stage, t)), '::/']);
  // BIOS: ldlinux.sys (+ ldlinux.c32) into the FAT, found by gptmbr through the legacy-boot flag
  await run('syslinux', ['--install', file], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}

export async function makeDisk(input: DiskInput): Promise<DiskResult> {
  const L = input.layout ?? DEFAULT_LAYOUT;
  const mbr = SYSLINUX_MBR.find((p) => existsSync(p));
  if (!mbr) throw new Error('syslinux gptmbr.bin not found: install the syslinux-common package');
  await mkdir(input.workDir, { recursive: true });
  const u = { esp: randomUUID(), a: randomUUID(), b: randomUUID(), data: randomUUID() };
  const start = 1 * MIB;
  const off = { esp: start, a: start + L.espMiB * MIB, b: start + (L.espMiB + L.slotMiB) * MIB, data: start + (L.espMiB + 2 * L.slotMiB) * MIB };
  const total = off.data + L.dataMiB * MIB + MIB; // + room for the backup GPT
  await rm(input.path, { force: true });
  await mkdir(dirname(input.path), { recursive: true });
  await writeFile(input.path, '');
  await truncate(input.path, total);
  const sec = (b: number) => b / SECTOR;
  const table = [
    'label: gpt',
    'unit: sectors',
    `${input.path}1 : start=${sec(off.esp)}, size=${sec(L.espMiB * MIB)}, type=${GPT_TYPES.esp}, uuid=${u.esp}, name="${PARTITION_LABELS.esp}", attrs="LegacyBIOSBootable"`,
    `${input.path}2 : start=${sec(off.a)}, size=${sec(L.slotMiB * MIB)}, type=${GPT_TYPES.root}, uuid=${u.a}, name="${PARTITION_LABELS.a}"`,
    `${input.path}3 : start=${sec(off.b)}, size=${sec(L.slotMiB * MIB)}, type=${GPT_TYPES.root}, uuid=${u.b}, name="${PARTITION_LABELS.b}"`,
    `${input.path}4 : start=${sec(off.data)}, size=${sec(L.dataMiB * MIB)}, type=${GPT_TYPES.linux}, uuid=${u.data}, name="${PARTITION_LABELS.data}"`,
    '',
  ].join('\n');
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', input.path], { input: table });
  await run('dd', [`if=${mbr}`, `of=${input.path}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);

  const entries: SlotEntry[] = [{ slot: 'a', version: input.version, partuuid: u.a }];
  const esp = join(input.workDir, 'esp.img');
  await makeEsp(esp, L.espMiB, entries, input);
  await run('dd', [`if=${esp}`, `of=${input.path}`, 'bs=1M', `seek=${off.esp / MIB}`, 'conv=notrunc,sparse', 'status=none']);
  await rm(esp, { force: true });
  await run('dd', [`if=${input.rootfsImage}`, `of=${input.path}`, 'bs=1M', `seek=${off.a / MIB}`, 'conv=notrunc,sparse', 'status=none']);
  // the data partition: an empty ext4, filled in on first boot (store, state, site config)
  await run('mkfs.ext4', ['-q', '-F', '-L', 'edgebox-data', '-m', '0', '-E', `offset=${off.data},root_owner=0:0`, input.path, `${L.dataMiB * 1024}k`]);
  return { path: input.path, bytes: total, partuuids: u };
}
