// The cluster launcher (scripts/lib/cluster.ts) brings a deployment up as real processes: the
// origin, control, a site of 3 embedded appliances and an IX site of 1, each appliance enrolled
// through the operator API with its own one-time token and reporting; a joining appliance does
// the same; a killed appliance comes back with its stored credential; stop() leaves no process.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../lib/cluster.ts';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('cluster launcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-cluster-test-'));
  let c: Cluster | undefined;
  let pids: number[] = [];

  beforeAll(async () => {
    c = await startCluster({
      dir,
      sites: [
        { siteId: 'lon-1', kind: 'embedded', region: 'eu', appliances: 3 },
        { siteId: 'ix-eu', kind: 'ix', region: 'eu', appliances: 1 },
      ],
    });
  }, 240_000);
  afterAll(async () => {
    await c?.stop();
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('enrolls every appliance in its site and each reports', async () => {
    const listed = await c!.control.api.appliances();
    expect(listed.map((a) => `${a.siteId}/${a.name}`).sort()).toEqual(['ix-eu/ix-eu-1', 'lon-1/lon-1-1', 'lon-1/lon-1-2', 'lon-1/lon-1-3']);
    for (const a of c!.appliances) {
      const l = listed.find((x) => x.name === a.name)!;
      expect(l.applianceId).toBe(a.applianceId);
      expect(l.lastReportAt).not.toBeNull();
      expect(l.publicUrl).toBe(a.origin);
      expect((await a.credential())?.applianceId).toBe(a.applianceId);
    }
    expect(new Set(c!.appliances.map((a) => a.applianceId)).size).toBe(4);
  });

  it('a joining appliance enrolls with a fresh token and reports', async () => {
    const d = await c!.addAppliance('lon-1');
    expect(d.name).toBe('lon-1-4');
    expect((await d.listed())?.siteId).toBe('lon-1');
    expect(c!.site('lon-1').length).toBe(4);
  });

  it('a killed appliance restarts with its stored credential (no new enrollment)', async () => {
    const a = c!.appliances[0];
    const id = a.applianceId;
    await a.kill();
    await a.start();
    expect(a.applianceId).toBe(id);
    expect((await c!.control.api.appliances()).length).toBe(5);
  });

  it('stop() ends every process it started', async () => {
    pids = [c!.origin.pid, c!.control.pid, ...c!.appliances.map((a) => a.pid!)];
    expect(pids.every(alive)).toBe(true);
    await c!.stop();
    expect(pids.filter(alive)).toEqual([]);
  });
});
