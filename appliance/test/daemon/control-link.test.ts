// The daemon joins the control plane through its control-link service: it enrolls, reports its
// health, tiers and inventory from Daemon.snapshot(), and control's operator drain becomes a soft
// drain (still serving, reported as draining and degraded).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENROLLMENT_TOKEN, startControlProcess, type ControlProc } from '../report/helpers/control-process.ts';
import { freePort } from '../bgp/helpers/routers.ts';
import { KID, SECRET, json, rawGet, sleep, startDaemon, type Daemon } from './harness.ts';

let control: ControlProc;
let d: Daemon;

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  control = await startControlProcess(mkdtempSync(join(tmpdir(), 'edgebox-ctl-')), await freePort('127.0.0.1'), 300,
    // control publishes its URL-token keys to the boxes it steers to; the daemon's test tokens
    // are signed with the harness's key, so control must hold that same key
    { urlTokenKid: KID, urlTokenSecret: SECRET });
  await control.op('PUT', '/v1/sites/lon-1', { kind: 'embedded', region: 'eu', timeZone: 'Europe/London' });
  d = await startDaemon({
    files: [{ fileId: 't1.v1', bytes: 5000, tier: 'ssd' }],
    settings: {
      controlUrl: control.url,
      report: { enrollmentToken: ENROLLMENT_TOKEN, name: 'daemon-test', publicUrl: 'http://127.0.0.1:9' },
    },
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
  await control?.stop();
});

describe('control link', () => {
  it('enrolls and reports health, tiers and inventory', async () => {
    const a = await until('a report', async () => {
      const list = (await control.op('GET', '/v1/appliances')).body as { name: string; lastReportAt: number | null }[];
      return list.find((x) => x.name === 'daemon-test' && x.lastReportAt !== null);
    });
    const view = await until('the inventory', async () => {
      const v = (await control.op('GET', `/v1/appliances/${(a as unknown as { applianceId: string }).applianceId}`)).body;
      return v.files === 1 ? v : undefined;
    });
    expect(view.health.status).toBe('ok');
    expect(view.tiers.map((t: { tier: string }) => t.tier)).toEqual(['ram', 'ssd', 'hdd']);
  });

  it("control's drain is a soft drain: still serving, reported draining", async () => {
    const list = (await control.op('GET', '/v1/appliances')).body as { applianceId: string; name: string }[];
    const id = list.find((x) => x.name === 'daemon-test')!.applianceId;
    expect((await control.op('PUT', `/v1/appliances/${id}/drain`, { drain: true })).status).toBe(200);
    const snap = await until('the drain to arrive', async () => {
      const s = await json(fetch(`${d.admin}/v1/snapshot`));
      return s.draining ? s : undefined;
    });
    expect(snap.health.reasons).toContain('drain requested by control');
    expect((await rawGet(d.port, `/v1/f/t1.v1?t=${d.token()}`)).status).toBe(200);

    // Lifting the drain at control lifts it on the box.
    expect((await control.op('PUT', `/v1/appliances/${id}/drain`, { drain: false })).status).toBe(200);
    const lifted = await until('the drain to lift', async () => {
      const s = await json(fetch(`${d.admin}/v1/snapshot`));
      return s.draining ? undefined : s;
    });
    expect(lifted.health.reasons).not.toContain('drain requested by control');
  });
});
