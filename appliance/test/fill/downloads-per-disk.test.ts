// Downloads at once per store root: by tier, and for an SSD-tier root with downloadsPerSsd "auto"
// (the default) by the drive the hardware probe found under it — more on NVMe — unless a number
// is set.

import { describe, expect, it } from 'vitest';
import { probedDisk } from '../../src/daemon/probe.ts';
import { DOWNLOADS_PER_NVME, DOWNLOADS_PER_SSD, downloadsFor } from '../../src/fill/disk-downloads.ts';
import { FillSettings } from '../../src/fill/settings.ts';
import { passes, until, useRig } from './helpers/engine.ts';
import { manifest, startSource, testFile } from './helpers/source-server.ts';

const rig = useRig();
const KiB = 1024;

describe('downloads per disk', () => {
  it('auto: NVMe takes more than any other SSD-tier drive; a number overrides; HDD-tier roots take downloadsPerHdd', () => {
    const auto = FillSettings.parse({});
    expect(auto.downloadsPerSsd).toBe('auto');
    expect(DOWNLOADS_PER_NVME).toBeGreaterThan(DOWNLOADS_PER_SSD);
    expect(downloadsFor('ssd', 'nvme', auto)).toBe(DOWNLOADS_PER_NVME);
    expect(downloadsFor('ssd', 'ssd', auto)).toBe(DOWNLOADS_PER_SSD);
    // unknown, or a drive calling itself rotational under a root the operator set "ssd" (virtual disks do)
    expect(downloadsFor('ssd', null, auto)).toBe(DOWNLOADS_PER_SSD);
    expect(downloadsFor('ssd', undefined, auto)).toBe(DOWNLOADS_PER_SSD);
    expect(downloadsFor('ssd', 'hdd', auto)).toBe(DOWNLOADS_PER_SSD);
    expect(downloadsFor('hdd', 'nvme', auto)).toBe(auto.downloadsPerHdd);
    const set = FillSettings.parse({ downloadsPerSsd: 3, downloadsPerHdd: 1 });
    expect(downloadsFor('ssd', 'nvme', set)).toBe(3);
    expect(downloadsFor('hdd', 'hdd', set)).toBe(1);
    expect(() => FillSettings.parse({ downloadsPerSsd: 'many' })).toThrow();
  });

  it('the probe tells NVMe (also a partition of it), SSD and HDD apart', () => {
    const fs = { size: 1e12, available: 5e11 };
    expect(probedDisk('/s', '/dev/nvme0n1', fs, 'NVMe')).toMatchObject({ kind: 'nvme', rotational: false });
    expect(probedDisk('/s', '/dev/nvme0n1p2', fs, undefined)).toMatchObject({ kind: 'nvme', rotational: null });
    expect(probedDisk('/s', '/dev/sda1', fs, 'SSD')).toMatchObject({ kind: 'ssd', rotational: false });
    expect(probedDisk('/s', '/dev/sdb', fs, 'HDD')).toMatchObject({ kind: 'hdd', rotational: true });
    expect(probedDisk('/s', '', undefined, undefined)).toMatchObject({ kind: null, rotational: null, sizeBytes: 0 });
  });

  for (const [drive, settings, expected] of [
    ['nvme', {}, DOWNLOADS_PER_NVME],
    ['ssd', {}, DOWNLOADS_PER_SSD],
    ['nvme', { downloadsPerSsd: 2 }, 2],
  ] as const) {
    it(`the engine runs ${expected} downloads at once on an SSD-tier root on ${drive} with downloadsPerSsd ${JSON.stringify(settings.downloadsPerSsd ?? 'auto')}`, async () => {
      // slow sources (64 KiB pieces with pauses) so the downloads overlap
      const files = Array.from({ length: DOWNLOADS_PER_NVME + 2 }, (_, i) => testFile(`t${i}.a`, 2048 * KiB));
      const peer = await startSource('p1', 'peer', new Map(files.map((f) => [f.fileId, f.data])), { dribble: 64 * KiB });
      rig.sources.push(peer);
      const { store, engine } = await rig.open({ ssdDrive: drive, settings });
      expect(engine.limitOf({ path: store.roots[0].path, tier: 'ssd' })).toBe(expected);
      let most = 0;
      const timer = setInterval(() => (most = Math.max(most, engine.status().active.length)), 5);
      try {
        engine.setManifest(manifest({ files: files.map((f, rank) => ({ ...f, rank, sources: ['p1'] })), sources: [peer.source()] }));
        engine.start();
        await until(`${expected} downloads running`, () => engine.status().active.length === expected);
        await passes(engine, 3);
        expect(engine.status().active.length).toBe(expected);
        await until('all held', () => files.every((f) => store.has(f.fileId, f.sha256)));
      } finally {
        clearInterval(timer);
      }
      expect(most).toBe(expected);
    });
  }
});
