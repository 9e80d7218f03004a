// How many downloads one store root takes at once. An HDD-tier root: `downloadsPerHdd` (seeks
// make more counter-productive). An SSD-tier root: `downloadsPerSsd`, or with "auto" (the
// default) by the drive the hardware probe found under it (daemon/probe.ts): an NVMe drive
// takes DOWNLOADS_PER_NVME — each download keeps WRITE_DEPTH writes of WRITE_BATCH in flight
// (source-fetch.ts), and NVMe needs more bytes in flight than a SATA SSD to reach its rate —
// anything else DOWNLOADS_PER_SSD, the figure every fill measurement so far was taken with.
// Rotational or not does not come into it here: that is the root's tier already (the store
// detects it for type "auto"), and virtual disks often call themselves rotational whatever
// backs them — an operator who set such a root "ssd" is taken at their word.

import type { FillSettings } from './settings.ts';

/** What the probe says a root's drive is (null: it could not tell). */
export type DriveKind = 'nvme' | 'ssd' | 'hdd' | null;

export const DOWNLOADS_PER_NVME = 8;
export const DOWNLOADS_PER_SSD = 4;

export function downloadsFor(
  tier: 'ssd' | 'hdd',
  drive: DriveKind | undefined,
  settings: Pick<FillSettings, 'downloadsPerSsd' | 'downloadsPerHdd'>,
): number {
  if (tier === 'hdd') return settings.downloadsPerHdd;
  if (settings.downloadsPerSsd !== 'auto') return settings.downloadsPerSsd;
  return drive === 'nvme' ? DOWNLOADS_PER_NVME : DOWNLOADS_PER_SSD;
}
