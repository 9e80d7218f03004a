// Control goes away and comes back, with real processes: the appliance daemon reporting to the
// real control service (control/main.ts, stopped and started again on the same address and
// database). While control is unreachable the box keeps serving viewers (their tokens are valid)
// and pauses fill; after controlAwayMaxMs it refuses viewers with a 503 `control_unreachable` and
// health is failing; when control answers again it serves again on its own, and control holds its
// state as the box reports it (inventory, health) without a new enrollment.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bgp/helpers/routers.ts';
import { ENROLLMENT_TOKEN, startControlProcess, type ControlProc } from '../report/helpers/control-process.ts';
import { KID, SECRET, json, rawGet, sample, sleep, startDaemon, type Daemon } from './harness.ts';

const INTERVAL = 1_000; // control's report interval: a box is stale after three
const AWAY_MAX_MS = 4_000;
const FILES = ['t1.v1', 't1.a1'];
/** control hands its URL-token key to the box: the same one the test signs viewer tokens with */
const CONTROL_KEYS = { urlTokenKid: KID, urlTokenSecret: SECRET };

let dir: string;
let port: number;
let control: ControlProc;
let d: Daemon;

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

const health = () => json(fetch(`${d.admin}/v1/health`));
const viewer = (id = FILES[0]) => rawGet(d.port, `/v1/f/${id}?t=${d.token()}`);
/** steered to (a busy test machine may show as overloaded; stale or failing is not) */
const steerable = (state: string) => state === 'healthy' || state === 'overloaded';
const fleet = async () => (await control.op('GET', '/v1/appliances')).body as Array<{ applianceId: string; state: string; files: number; health: { status: string } }>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebox-control-away-'));
  port = await freePort('127.0.0.1');
  control = await startControlProcess(dir, port, INTERVAL, CONTROL_KEYS);
  expect((await control.op('PUT', '/v1/sites/lon-1', { kind: 'embedded', region: 'eu', timeZone: 'Europe/London' })).status).toBe(200);
  d = await startDaemon({
    files: FILES.map((fileId) => ({ fileId, bytes: 50_000, tier: 'ssd' as const })),
    settings: {
      controlUrl: control.url,
      controlAwayMaxMs: AWAY_MAX_MS,
      loadCpu: 'process', // this daemon's share of a shared machine, not the machine's load
      faultInjection: true, // to crash the serving workers while viewers are refused
      workerRestartMinMs: 100,
      report: { enrollmentToken: ENROLLMENT_TOKEN, name: 'box1', publicUrl: 'http://127.0.0.1:9', backoffMinMs: 100, backoffMaxMs: 300 },
    },
  });
});
afterAll(async () => {
  try {
    if (d) expect(await d.stop()).toBe(0);
  } finally {
    await control?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('control away', () => {
  it('keeps serving, then refuses viewers after controlAwayMaxMs, and resumes on its own when control is back', async () => {
    const first = await until('control sees the box', fleet, (f) => f.length === 1 && f[0].files === FILES.length && steerable(f[0].state));
    const applianceId = first[0].applianceId;
    expect((await viewer()).status).toBe(200);

    await control.stop();
    // unreachable: still serving, fill paused, health says why
    const degraded = await until('health notices', health, (h) => h.reasons.some((r: string) => r.includes('control unreachable')));
    expect(degraded.reasons).toContainEqual(expect.stringMatching(/^control unreachable since .*: fill paused$/));
    const served = await viewer();
    expect(served.status).toBe(200);
    expect(served.body.equals(d.files.get(FILES[0])!.data)).toBe(true);
    expect(d.stdout.some((l) => l.includes('"fill: paused"'))).toBe(true);
    const status = await json(fetch(`${d.admin}/v1/status`));
    expect(status.control).toMatchObject({ reachable: false });

    // away for longer than controlAwayMaxMs: viewers refused with a clear code, health failing
    const failing = await until('viewers refused', health, (h) => h.status === 'failing');
    expect(failing.reasons).toContainEqual(expect.stringMatching(/^control unreachable since .*: viewers refused until it answers$/));
    const refused = await viewer();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString()).error.code).toBe('control_unreachable');
    expect((await rawGet(d.port, '/v1/health')).status).toBe(503);
    // serving workers restarted meanwhile refuse viewers too
    for (const w of [0, 1]) expect((await d.adminFetch(`/v1/admin/fault/crash-worker?worker=${w}`, { method: 'POST' })).status).toBe(202);
    await until('both workers restarted', async () => await d.metrics(), (t) => sample(t, 'edgebox_worker_restarts_total') === 2 && sample(t, 'edgebox_workers') === 2);
    expect((await viewer()).status).toBe(503);

    // control back (same database, same address): the box serves again by itself. (Control plans
    // the box's fill at start, and the plan does not list these fixture files: fill may evict them
    // from here on, so what is asserted is "not refused" and control agreeing with the box.)
    control = await startControlProcess(dir, port, INTERVAL, CONTROL_KEYS);
    // restarted from its database, control does not see the box as stale before its next report
    expect((await fleet()).map((x) => [x.applianceId, x.state === 'stale'])).toEqual([[applianceId, false]]);
    await until('viewers no longer refused', async () => (await viewer()).status, (s) => s !== 503);
    const back = await until('health clears', health, (h) => !h.reasons.some((r: string) => r.includes('control unreachable')));
    expect(back.status).not.toBe('failing');
    expect(d.stdout.some((l) => l.includes('"fill: resumed"'))).toBe(true);
    // control holds the box's state as the box reports it now, under the same identity (no new enrollment)
    await until('control agrees with the box', async () => [await fleet(), await json(fetch(`${d.admin}/v1/snapshot`))] as const,
      ([f, snap]) => f.length === 1 && f[0].applianceId === applianceId && steerable(f[0].state)
        && f[0].health.status !== 'failing' && f[0].files === snap.inventory.length);
  });
});
