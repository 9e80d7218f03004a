// startControlLink, the daemon's entry point into BGP + reporting, with daemon-style settings
// resolved through protocol's resolveSettings (env EDGEBOX_BGP / EDGEBOX_REPORT as JSON): a
// prefix announced by a scripted router reaches the real control, and the metrics show it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveSettings } from '../../../protocol/index.ts';
import { BgpSettings } from '../../src/bgp/settings.ts';
import { encodeUpdate } from '../../src/bgp/update-encoder.ts';
import { startControlLink } from '../../src/report/control-link.ts';
import type { ReportSnapshot } from '../../src/report/reporter.ts';
import { ReporterSettings } from '../../src/report/settings.ts';
import type { ApplianceSnapshot } from '../../src/daemon/snapshot.ts';
import { rawOpen, RawPeer } from '../bgp/helpers/raw-peer.ts';
import { freePort, loopbackPair, waitFor } from '../bgp/helpers/routers.ts';
import { ENROLLMENT_TOKEN, startControlProcess } from './helpers/control-process.ts';

// The slice of the daemon's schema this needs: how the daemon owner embeds the two settings.
const DaemonSlice = z.object({
  bgp: BgpSettings.prefault({}),
  report: ReporterSettings.prefault({}),
});

// The daemon's snapshot must stay usable as the reporter's input (checked by `npm run typecheck`).
export const daemonSnapshotFits: (s: ApplianceSnapshot) => ReportSnapshot = (s) => s;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('startControlLink', () => {
  it('defaults to no BGP and rejects a bad neighbor naming the setting', () => {
    expect(resolveSettings(DaemonSlice, {}, {}, 'EDGEBOX_').bgp.neighbors).toEqual([]);
    expect(() => resolveSettings(DaemonSlice, {}, { EDGEBOX_BGP: '{"neighbors":[{"address":"nope","peerAsn":1}]}' }, 'EDGEBOX_'))
      .toThrow(/setting "bgp\.(routerId|neighbors\.0\.address)" \(env EDGEBOX_BGP\)/);
    expect(() => resolveSettings(DaemonSlice, { bgp: { routerId: '10.0.0.1', neighbors: [{ address: '10.0.0.2', peerAsn: 1, holdTime: 2 }] } }, {}, 'EDGEBOX_'))
      .toThrow(/bgp\.neighbors\.0\.holdTime/);
  });

  it('starts BGP and the reporter from settings; a learned prefix reaches control', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-link-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const control = await startControlProcess(dir, await freePort('127.0.0.1'), 300);
    cleanups.push(() => control.stop());
    await control.op('PUT', '/v1/sites/lon-1', { kind: 'embedded', region: 'eu', timeZone: 'Europe/London' });
    const [peerAddr, ourAddr] = loopbackPair();
    const s = resolveSettings(DaemonSlice, {
      bgp: { routerId: '10.255.0.9', listenAddress: ourAddr, listenPort: 0, neighbors: [{ address: peerAddr, peerAsn: 65001, passive: true }] },
    }, { EDGEBOX_REPORT: JSON.stringify({ enrollmentToken: ENROLLMENT_TOKEN, name: 'link-box', publicUrl: 'http://127.0.0.1:9998' }) }, 'EDGEBOX_');
    const registry = new Registry();
    const link = await startControlLink({
      controlUrl: control.url, stateDir: dir, bgp: s.bgp, report: s.report, softwareVersion: 'test', registry,
      logger: pino({ level: 'silent' }),
      snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1e9, connections: 0, cpu: 0 }, tiers: [], inventory: [] }),
    });
    cleanups.push(() => link.stop());
    const router = await RawPeer.connect(ourAddr, link.speaker!.listenPort!, peerAddr);
    cleanups.push(async () => router.close());
    await router.establish(rawOpen({ asn: 65001 }));
    router.send(encodeUpdate({ announced: ['81.20.0.0/16'], asPath: [65001] }));
    await waitFor('enrolled', () => link.reporter!.applianceId);
    let routes: { prefix: string }[] = [];
    for (let i = 0; i < 100 && routes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      routes = (await control.op('GET', `/v1/appliances/${link.reporter!.applianceId}/prefixes`)).body.routes;
    }
    expect(routes.map((r) => r.prefix)).toEqual(['81.20.0.0/16']);
    const text = await registry.metrics();
    expect(text).toContain(`edgebox_bgp_prefixes{peer="${peerAddr}"} 1`);
    expect(text).toMatch(/edgebox_control_reports\{outcome="sent"\} [1-9]/);
  });
});
