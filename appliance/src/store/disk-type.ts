// Is the device behind a path rotational? stat(path).dev → major:minor →
// /sys/dev/block/M:m/queue/rotational (a partition has no queue/: its parent disk has). Paths on
// filesystems without a block device (tmpfs, overlay, NFS) or without /sys fall back to 'ssd'
// with the reason, which the daemon logs.

import { readFile, realpath, stat } from 'node:fs/promises';
import type { DiskTier } from './types.ts';

export interface DiskTypeResult {
  type: DiskTier;
  /** device number as "major:minor" */
  device: string;
  /** how the answer was reached (for the start-up log and /v1/status) */
  reason: string;
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor; the high bits need real division). */
export function splitDev(dev: number): { major: number; minor: number } {
  const lo = dev % 2 ** 32;
  const hi = Math.floor(dev / 2 ** 32);
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xffffff00);
  return { major: major >>> 0, minor: minor >>> 0 };
}

export async function detectDiskType(path: string, sysRoot = '/sys'): Promise<DiskTypeResult> {
  const { major, minor } = splitDev((await stat(path)).dev);
  const device = `${major}:${minor}`;
  if (major === 0) {
    return { type: 'ssd', device, reason: `no block device behind ${path} (virtual filesystem): assuming ssd` };
  }
  let devDir: string;
  try {
    devDir = await realpath(`${sysRoot}/dev/block/${device}`);
  } catch {
    return { type: 'ssd', device, reason: `${sysRoot}/dev/block/${device} not found: assuming ssd` };
  }
  for (const candidate of [`${devDir}/queue/rotational`, `${devDir}/../queue/rotational`]) {
    try {
      const value = (await readFile(candidate, 'utf8')).trim();
      if (value === '1') return { type: 'hdd', device, reason: `${candidate} = 1` };
      if (value === '0') return { type: 'ssd', device, reason: `${candidate} = 0` };
    } catch {
      // try the parent disk next
    }
  }
  return { type: 'ssd', device, reason: `no queue/rotational for block device ${device}: assuming ssd` };
}
