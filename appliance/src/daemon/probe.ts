// Hardware probe (systeminformation): what this box has, and what the daemon derives from it
// when a setting says "auto" — worker count, RAM tier size, per-disk IO concurrency, advertised
// capacity. Logged at start and shown at GET /v1/status.

import si from 'systeminformation';
import type { ApplianceSettings } from './settings.ts';

export interface ProbedDisk {
  path: string;
  device: string;
  sizeBytes: number;
  freeBytes: number;
  rotational: boolean | null;
  /** what the drive is (null: unknown): fill's downloadsPerSsd "auto" (fill/disk-downloads.ts) */
  kind: 'nvme' | 'ssd' | 'hdd' | null;
}

export interface Probe {
  cores: number;
  memoryBytes: number;
  disks: ProbedDisk[];
  nics: { iface: string; speedMbps: number | null }[];
  workers: number;
  ramTierBytes: number;
  capacityBps: number;
}

/** Share of memory the RAM tier takes when ramTierBytes is auto. */
const RAM_TIER_SHARE = 0.25;
/** Assumed link speed when no NIC reports one (virtual NICs often report none). */
const DEFAULT_CAPACITY_BPS = 1e9;
const SSD_CONCURRENCY = 64;
const HDD_CONCURRENCY = 4;

function mountOf<T extends { mount: string }>(path: string, mounts: T[]): T | undefined {
  let best: T | undefined;
  for (const m of mounts) {
    if (!m.mount) continue;
    const prefix = m.mount.endsWith('/') ? m.mount : m.mount + '/';
    if ((path === m.mount || path.startsWith(prefix)) && (!best || m.mount.length > best.mount.length)) best = m;
  }
  return best;
}

/**
 * Reads in flight one disk of a tier takes: deep queues for flash, shallow for spinning disks
 * (whose seeks make concurrency counter-productive). The store decides each root's tier.
 */
export function diskConcurrency(tier: 'ssd' | 'hdd', settings: Pick<ApplianceSettings, 'diskConcurrency'>): number {
  if (settings.diskConcurrency !== 'auto') return settings.diskConcurrency;
  return tier === 'ssd' ? SSD_CONCURRENCY : HDD_CONCURRENCY;
}

/** One root's disk from what systeminformation found (`physical`: blockDevices' HDD / SSD / NVMe). */
export function probedDisk(path: string, device: string, fs: { size: number; available: number } | undefined, physical: string | undefined): ProbedDisk {
  const rotational = physical === 'HDD' ? true : physical === 'SSD' || physical === 'NVMe' ? false : null;
  // an NVMe namespace's partitions (/dev/nvme0n1p1) may report no type of their own
  const kind = physical === 'NVMe' || device.startsWith('/dev/nvme') ? 'nvme' : physical === 'SSD' ? 'ssd' : physical === 'HDD' ? 'hdd' : null;
  return { path, device, sizeBytes: fs?.size ?? 0, freeBytes: fs?.available ?? 0, rotational, kind };
}

export async function probeHardware(settings: ApplianceSettings): Promise<Probe> {
  const [cpu, mem, fsSizes, blocks, nics] = await Promise.all([
    si.cpu(),
    si.mem(),
    si.fsSize(),
    si.blockDevices(),
    si.networkInterfaces(),
  ]);
  const cores = Math.max(1, cpu.cores || 1);
  const disks = settings.storage.map((root): ProbedDisk => {
    const fs = mountOf(root.path, fsSizes);
    const device = fs?.fs ?? '';
    // a partition (/dev/sda1) is rotational if its disk is; blockDevices lists both
    const block = blocks.find((b) => b.device === device || `/dev/${b.name}` === device);
    const parent = block && block.type !== 'disk'
      ? blocks.find((b) => b.type === 'disk' && device.startsWith(b.device || `/dev/${b.name}`))
      : block;
    const physical = parent?.physical ?? block?.physical;
    return probedDisk(root.path, device, fs, physical);
  });
  const nicList = (Array.isArray(nics) ? nics : [nics])
    .filter((n) => !n.internal)
    .map((n) => ({ iface: n.iface, speedMbps: typeof n.speed === 'number' && n.speed > 0 ? n.speed : null }));
  const linkBps = nicList.reduce((sum, n) => sum + (n.speedMbps ?? 0) * 1e6, 0);
  return {
    cores,
    memoryBytes: mem.total,
    disks,
    nics: nicList,
    workers: settings.workers === 'auto' ? cores : settings.workers,
    ramTierBytes: settings.ramTierBytes === 'auto' ? Math.floor(mem.total * RAM_TIER_SHARE) : settings.ramTierBytes,
    capacityBps: settings.capacityBps === 'auto' ? linkBps || DEFAULT_CAPACITY_BPS : settings.capacityBps,
  };
}
