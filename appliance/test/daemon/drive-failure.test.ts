// A daemon whose SSD root is a drive that fails for real (a loop device cut short under ext4:
// EIO from the kernel). Viewers' reads fail in the serving worker threads; the errors reach the
// drive's count in the main thread, and at driveErrorLimit the drive is taken out of service:
// health degraded naming it, edgebox_store_drive_failed 1 for it, its files gone from the
// inventory control is told about, its capacity gone from the tiers reported — while the other
// drive's files are still served.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdShard } from '../../../protocol/index.ts';
import { makeFaultyDrive, type FaultyDrive } from '../store/faulty-drive.ts';
import { json, rawGet, sleep, startDaemon, type Daemon } from './harness.ts';

const SSD_FILES = ['t1.s1', 't1.s2', 't1.s3', 't1.s4'];
const HDD_FILE = 't1.h1';
const SIZE = 300_000;

let drive: FaultyDrive;
let d: Daemon;
let ssdRoot: string;
let hddRoot: string;

beforeAll(async () => {
  // big enough for the store's default 64 MiB reserve, which the fixture's own publish keeps
  drive = makeFaultyDrive(256 * 1024 * 1024);
  ssdRoot = join(drive.mount, 'ssd');
  hddRoot = join(drive.mount, '..', 'hdd'); // beside the mount, on a working disk
  d = await startDaemon({
    files: [...SSD_FILES.map((fileId) => ({ fileId, bytes: SIZE, tier: 'ssd' as const })), { fileId: HDD_FILE, bytes: SIZE, tier: 'hdd' }],
    settings: {
      ramTierBytes: 0,
      storage: [
        { path: ssdRoot, type: 'ssd', maxBytes: SSD_FILES.length * SIZE + 1024 },
        { path: hddRoot, type: 'hdd' },
      ],
      storeTuning: { rebalanceIntervalMs: 3_600_000, reserveBytes: 0, driveErrorLimit: 3, driveErrorWindowMs: 600_000 },
    },
  });
});
afterAll(async () => {
  try {
    if (d) expect(await d.stop()).toBe(0);
  } finally {
    drive?.close();
  }
});

const failedGauge = (text: string, root: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith('edgebox_store_drive_failed{') && l.includes(`root="${root}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('a failing drive under a running daemon', () => {
  it('is taken out of service after driveErrorLimit read errors in the workers', async () => {
    const before = await json(fetch(`${d.admin}/v1/snapshot`));
    const ssdCapacity = before.tiers.find((t: { tier: string }) => t.tier === 'ssd').capacityBytes;
    expect(ssdCapacity).toBeGreaterThan(0);
    expect(before.inventory).toEqual([...SSD_FILES, HDD_FILE].sort());
    expect(failedGauge(await d.metrics(), ssdRoot)).toBe(0);

    drive.breakUnder(SSD_FILES.map((id) => join(ssdRoot, fileIdShard(id), id)));
    // viewers hit the broken drive: each read fails (a clean 503 before any byte) until the
    // drive is out of service, then its files are simply not held (404: the player moves on)
    const statuses: number[] = [];
    const deadline = Date.now() + 30_000;
    let health = await json(fetch(`${d.admin}/v1/health`));
    for (let i = 0; !health.reasons.some((r: string) => r.startsWith('store drive failed')); i++) {
      if (Date.now() > deadline) throw new Error(`drive never failed; statuses ${statuses.join(',')}; health ${JSON.stringify(health)}`);
      statuses.push((await rawGet(d.port, `/v1/f/${SSD_FILES[i % SSD_FILES.length]}?t=${d.token()}`, { Range: 'bytes=0-99999' })).status);
      await sleep(50);
      health = await json(fetch(`${d.admin}/v1/health`));
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 503 || s === 404)).toBe(true);
    expect(health.status).toBe('degraded');
    expect(health.reasons).toContainEqual(expect.stringMatching(new RegExp(`^store drive failed: ${ssdRoot} \\(3 I/O errors \\(last: EIO\\)`)));

    const text = await d.metrics();
    expect(failedGauge(text, ssdRoot)).toBe(1);
    expect(failedGauge(text, hddRoot)).toBe(0);

    const after = await json(fetch(`${d.admin}/v1/snapshot`));
    expect(after.inventory).toEqual([HDD_FILE]);
    expect(after.tiers.find((t: { tier: string }) => t.tier === 'ssd').capacityBytes).toBe(0);
    for (const id of SSD_FILES) expect((await rawGet(d.port, `/v1/f/${id}?t=${d.token()}`)).status).toBe(404);
    const hdd = await rawGet(d.port, `/v1/f/${HDD_FILE}?t=${d.token()}`);
    expect(hdd.status).toBe(200);
    expect(hdd.body.equals(d.files.get(HDD_FILE)!.data)).toBe(true);
  });
});
