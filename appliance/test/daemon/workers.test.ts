// A crashed serving worker is restarted while the others keep the port answering. The crash is
// injected through the admin API, which has the hook only with faultInjection on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, rawGet, sample, sleep, startDaemon, type Daemon } from './harness.ts';

let d: Daemon;

beforeAll(async () => {
  d = await startDaemon({
    files: [{ fileId: 't1.v1', bytes: 64 * 1024, tier: 'ssd' }],
    settings: { faultInjection: true, workers: 2, workerRestartMinMs: 2_000 },
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

async function get(): Promise<number> {
  // a fresh connection each time, so the kernel spreads them over the listening workers
  return (await rawGet(d.port, `/v1/f/t1.v1?t=${d.token()}`, { Range: 'bytes=0-99' })).status;
}

describe('serving workers', () => {
  it('the fault hook is absent unless faultInjection is on; health says failing without keys', async () => {
    const plain = await startDaemon({ settings: { workers: 1, tokenKeys: {} } });
    try {
      const res = await plain.adminFetch('/v1/admin/fault/crash-worker?worker=0', { method: 'POST' });
      expect(res.status).toBe(404);
      // and a box that can serve nothing says so
      const health = await fetch(`${plain.admin}/v1/health`);
      expect(health.status).toBe(503);
      const h = await json(health);
      expect(h.status).toBe('failing');
      expect(h.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/no URL token keys/), 'the store holds no files']));
    } finally {
      expect(await plain.stop()).toBe(0);
    }
  });

  it('a crashed worker is restarted and the port keeps answering', async () => {
    expect(await get()).toBe(206);
    const crash = await d.adminFetch('/v1/admin/fault/crash-worker?worker=0', { method: 'POST' });
    expect(crash.status).toBe(202);
    // wait until worker 0 is gone (the restart backoff keeps it down for a while)
    const gone = Date.now() + 10_000;
    while (sample(await d.metrics(), 'edgebox_workers') !== 1) {
      if (Date.now() > gone) throw new Error('worker 0 never went down');
      await sleep(20);
    }
    // while worker 0 is down (and after), every new connection is served
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await get());
    expect(statuses.every((s) => s === 206)).toBe(true);
    // and it comes back
    const deadline = Date.now() + 20_000;
    let text = '';
    while (Date.now() < deadline) {
      text = await d.metrics();
      if (sample(text, 'edgebox_workers') === 2 && sample(text, 'edgebox_worker_restarts_total') === 1) break;
      await sleep(100);
    }
    expect(sample(text, 'edgebox_worker_restarts_total')).toBe(1);
    expect(sample(text, 'edgebox_workers')).toBe(2);
    expect(d.stdout.some((l) => l.includes('serving worker restarted'))).toBe(true);
    for (let i = 0; i < 10; i++) expect(await get()).toBe(206);
  });
});
