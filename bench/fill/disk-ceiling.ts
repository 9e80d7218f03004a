// The disk's own ceiling for (a): the fill's write pattern with nothing else — downloadsPerSsd
// files at once, each with WRITE_DEPTH batches of WRITE_BATCH bytes in flight, written O_DIRECT
// from page-aligned memory (the store's shared slabs, as bulk-get reads into them) into fresh files
// on the filesystem the appliances' stores are on, each fsynced at its end as a commit does. No
// socket, no hash, no appliance. A fill whose downloads wait mostly for a write slot
// (pipeline.storeWaitShare) and run near this figure is bound by the disk, not by its own code:
// on the bench VM the fill ran at 494–529 MB/s and spent 72–74 % of its download time waiting on
// the store, and this pattern alone wrote 300–690 MB/s there (dd oflag=direct: 450–690, no better
// with more files or deeper queues — the virtual disk does not scale with queue depth).

import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FillSettings } from '../../appliance/src/fill/settings.ts';
import { downloadsFor } from '../../appliance/src/fill/disk-downloads.ts';
import { WRITE_BATCH, WRITE_DEPTH } from '../../appliance/src/fill/source-fetch.ts';
import { giveSharedSlab, takeSharedSlab } from '../../appliance/src/store/shared-slabs.ts';
import { round3 } from '../serve/measurement.ts';

export interface DiskCeiling {
  bytes: number;
  files: number;
  depth: number;
  batchBytes: number;
  /** false: the filesystem refused O_DIRECT, written through the page cache (and fsynced) */
  direct: boolean;
  seconds: number;
  MBps: number;
  /** CPU-seconds per GiB of this process (syscalls, the threadpool): the floor of a fill's write cost */
  cpuSecondsPerGiB: number;
}

async function openDirect(path: string) {
  try {
    return await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    return null;
  }
}

/** Write `bytes` (rounded down to whole batches per file) into `dir` the way a fill does; the files are removed. */
export async function diskCeiling(dir: string, bytes: number): Promise<DiskCeiling> {
  // what the filling appliance takes on an SSD-tier root whose drive is not NVMe (as here)
  const files = downloadsFor('ssd', null, FillSettings.parse({}));
  const perFile = Math.max(1, Math.floor(bytes / files / WRITE_BATCH)) * WRITE_BATCH;
  const slabs = Array.from({ length: files * WRITE_DEPTH }, () => takeSharedSlab());
  let direct = true;
  try {
    if (slabs.some((s) => s === undefined)) throw new Error('disk ceiling: the shared slab pool is out');
    for (const s of slabs) s!.fill(0x5a);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await Promise.all(Array.from({ length: files }, async (_, f) => {
      const path = join(dir, `disk-ceiling-${f}`);
      const fh = (await openDirect(path)) ?? (direct = false, await open(path, 'w', 0o644));
      try {
        const inFlight: Promise<unknown>[] = [];
        for (let at = 0, k = 0; at < perFile; at += WRITE_BATCH, k++) {
          if (inFlight.length >= WRITE_DEPTH) await inFlight.shift();
          inFlight.push(fh.write(slabs[f * WRITE_DEPTH + (k % WRITE_DEPTH)]!, 0, WRITE_BATCH, at));
        }
        await Promise.all(inFlight);
        await fh.sync();
      } finally {
        await fh.close();
        await unlink(path).catch(() => {});
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const total = perFile * files;
    return {
      bytes: total, files, depth: WRITE_DEPTH, batchBytes: WRITE_BATCH, direct,
      seconds: round3(seconds),
      MBps: round3(total / seconds / 1e6),
      cpuSecondsPerGiB: round3((cpu.user + cpu.system) / 1e6 / (total / 2 ** 30)),
    };
  } finally {
    for (const s of slabs) if (s) giveSharedSlab(s);
  }
}
