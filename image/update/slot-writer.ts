// Put a verified bundle into the inactive slot and arm a one-time boot of it: the root filesystem
// onto the slot's partition, its kernel and initramfs onto the EFI partition, then the trial
// marker, then the boot entries with the new slot as the next boot and the current one as the
// committed boot. The marker goes first, so an interruption at any point can never leave the new
// slot as the permanent default without a trial.

import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
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

/**
 * Decompress a zstd image onto a block device (or file) from its start; throws when the bytes
 * written are not the manifest's size. The content is not hashed again: the compressed file's
 * sha256 was checked against the signed manifest as it was downloaded, and zstd checks its frame
 * checksum as it decompresses, so a second sha256 of the whole filesystem would only cost CPU.
 */
export async function writeImage(zst: string, device: string, want: { bytes: number }): Promise<void> {
  let n = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) { n += chunk.length; cb(null, chunk); },
  });
  await pipeline(createReadStream(zst, { highWaterMark: 4 << 20 }), createZstdDecompress(), count,
    createWriteStream(device, { flags: 'r+', flush: true, highWaterMark: 4 << 20 }));
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
