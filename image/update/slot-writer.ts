// Put a verified bundle into the inactive slot and arm a one-time boot of it: the root filesystem
// onto the slot's partition, its kernel and initramfs onto the EFI partition, then the trial
// marker, then the boot entries with the new slot as the next boot and the current one as the
// committed boot. The marker goes first, so an interruption at any point can never leave the new
// slot as the permanent default without a trial.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bootFiles, type Slot, type SlotEntry } from './boot-entries.ts';

export interface EspLayout {
  /** where the EFI partition is mounted */
  esp: string;
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, text, { flush: true });
  await rename(`${path}.tmp`, path);
}

/** Run a program to its end; its exit code and what it wrote to stderr. */
function finished(p: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr: stderr.trim() }));
  });
}

/**
 * Decompress a zstd image onto a block device (or file) from its start; throws when the bytes
 * written are not the manifest's size. `zstd -d | dd` does it without a byte passing through
 * JavaScript, and onto a block device with O_DIRECT, past the page cache: under qemu's emulation
 * this step was the costliest of an update. The content is not hashed again: the compressed
 * file's sha256 was checked against the signed manifest as it was downloaded, and zstd checks its
 * frame checksum as it decompresses.
 */
export async function writeImage(zst: string, device: string, want: { bytes: number }): Promise<void> {
  const direct = (await stat(device)).isBlockDevice();
  const unzstd = spawn('zstd', ['-d', '-c', '-q', zst], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dd = spawn('dd', [`of=${device}`, 'bs=4M', 'iflag=fullblock', 'conv=notrunc,fsync', ...(direct ? ['oflag=direct'] : [])],
    { stdio: [unzstd.stdout!, 'ignore', 'pipe'] });
  // dd holds the pipe now; this process's end would keep zstd's stdout from ever closing here
  unzstd.stdout!.destroy();
  const [z, d] = await Promise.all([finished(unzstd), finished(dd)]);
  if (z.code !== 0) throw new Error(`zstd -d ${zst}: exit ${z.code}: ${z.stderr}`);
  if (d.code !== 0) throw new Error(`dd of=${device}: exit ${d.code}: ${d.stderr}`);
  const n = Number(/^(\d+) bytes/m.exec(d.stderr)?.[1] ?? NaN);
  if (n !== want.bytes) throw new Error(`the root filesystem written is ${n} bytes; the manifest says ${want.bytes}`);
}

export async function installKernel(esp: string, slot: Slot, kernel: string, initrd: string): Promise<void> {
  const dir = join(esp, slot);
  await mkdir(dir, { recursive: true });
  for (const [src, name] of [[kernel, 'vmlinuz'], [initrd, 'initrd.img']] as const) {
    await copyFile(src, join(dir, `${name}.tmp`));
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  }
}

export async function writeBootFiles(esp: string, next: Slot, committed: Slot, entries: SlotEntry[]): Promise<void> {
  const files = bootFiles(next, committed, entries);
  // entries and the committed copies first, the live defaults last
  const live = new Set(['loader/loader.conf', 'syslinux.cfg']);
  for (const [rel, text] of Object.entries(files)) if (!live.has(rel)) await writeFileAtomic(join(esp, rel), text);
  for (const rel of live) await writeFileAtomic(join(esp, rel), files[rel]);
}

export const TRIAL_FILE = 'edgebox/trial';
export const TRYING_FILE = 'edgebox/trying';

export async function armTrial(esp: string, slot: Slot): Promise<void> {
  await writeFileAtomic(join(esp, TRIAL_FILE), slot);
}

/** 'trial': armed, not booted yet; 'trying': booted once (the initramfs renamed it). */
export async function trialMarker(esp: string): Promise<{ kind: 'trial' | 'trying'; slot: Slot } | null> {
  for (const [kind, rel] of [['trying', TRYING_FILE], ['trial', TRIAL_FILE]] as const) {
    try {
      const s = (await readFile(join(esp, rel), 'utf8')).trim();
      if (s === 'a' || s === 'b') return { kind, slot: s };
    } catch { /* absent */ }
  }
  return null;
}

export async function clearTrial(esp: string): Promise<void> {
  await rm(join(esp, TRIAL_FILE), { force: true });
  await rm(join(esp, TRYING_FILE), { force: true });
}
