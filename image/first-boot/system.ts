// Small system helpers for the on-box programs: run a command, find the disk and partition
// behind a partition label, read this boot's slot and the image version.

import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { PATHS } from './paths.ts';

const pexec = promisify(execFile);

export async function sh(cmd: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await pexec(cmd, args, { maxBuffer: 16 << 20 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

export interface PartitionRef { device: string; disk: string; number: number }

/** /dev/disk/by-partlabel/<label> → its device, its disk and its partition number. */
export function partitionByLabel(label: string): PartitionRef {
  return partitionOf(realpathSync(`/dev/disk/by-partlabel/${label}`));
}

export function partitionOf(path: string): PartitionRef {
  const device = realpathSync(path);
  const name = basename(device);
  const sys = realpathSync(`/sys/class/block/${name}`);
  const number = Number(readFileSync(`${sys}/partition`, 'utf8').trim());
  return { device, disk: `/dev/${basename(dirname(sys))}`, number };
}

export function cmdlineArg(name: string): string | null {
  try {
    for (const a of readFileSync('/proc/cmdline', 'utf8').trim().split(/\s+/)) if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  } catch { /* not Linux */ }
  return null;
}

export function imageVersion(): string {
  try {
    return readFileSync(PATHS.version, 'utf8').trim();
  } catch {
    return '0.0.0-dev';
  }
}

export function currentSlot(): 'a' | 'b' {
  return cmdlineArg('edgebox.slot') === 'b' ? 'b' : 'a';
}
