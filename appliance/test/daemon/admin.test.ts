// The admin/observability address: /metrics passes promtool, /v1/health and /v1/status answer,
// admin actions need the Bearer token.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceReport } from '../../../protocol/index.ts';
import { json, sample, startDaemon, type Daemon } from './harness.ts';

let d: Daemon;

beforeAll(async () => {
  d = await startDaemon({
    files: [
      { fileId: 't1.hot', bytes: 100_000, tier: 'ram' },
      { fileId: 't1.cold', bytes: 50_000, tier: 'hdd' },
    ],
    waitRam: true,
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

describe('admin and observability', () => {
  it('/metrics aggregates the workers and passes promtool check metrics', async () => {
    for (const id of ['t1.hot', 't1.cold', 't1.hot', 't1.none']) {
      const res = await fetch(`${d.origin}/v1/f/${id}?t=${d.token()}`, { headers: { range: 'bytes=0-999' } });
      await res.arrayBuffer();
    }
    await (await fetch(`${d.origin}/v1/f/t1.hot`)).arrayBuffer(); // 403
    const text = await d.metrics();
    const path = join(d.dir, 'metrics.txt');
    writeFileSync(path, text);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < ${path}`]);
    expect(stdout + stderr).not.toMatch(/error|should/i);
    expect(sample(text, 'edgebox_http_requests_total{status="206",tier="ram"}')).toBe(2);
    expect(sample(text, 'edgebox_http_requests_total{status="206",tier="hdd"}')).toBe(1);
    expect(sample(text, 'edgebox_http_requests_total{status="404",tier="none"}')).toBe(1);
    expect(sample(text, 'edgebox_http_requests_total{status="403",tier="none"}')).toBe(1);
    expect(sample(text, 'edgebox_served_bytes_total{tier="ram"}')).toBe(2000);
    expect(sample(text, 'edgebox_ram_tier_bytes')).toBe(100_000);
    expect(sample(text, 'edgebox_store_ram_admitted_total')).toBe(1);
    expect(sample(text, 'edgebox_store_quarantined_total')).toBe(0);
    expect(sample(text, 'edgebox_ram_hit_ratio')).toBeCloseTo(2 / 3);
    expect(text).toMatch(/edgebox_http_request_duration_seconds_bucket\{le="[^"]+",tier="ram"\}/);
    expect(text).toMatch(/^edgebox_http_in_flight_requests \d+$/m);
    expect(text).toMatch(/^edgebox_disk_read_errors_total|# HELP edgebox_disk_read_errors_total/m);
    // each serving worker's own heap and loop delay, one series per worker
    for (const w of ['0', '1']) {
      expect(sample(text, `edgebox_worker_heap_used_bytes{worker="${w}"}`)).toBeGreaterThan(1e6);
      expect(sample(text, `edgebox_worker_heap_total_bytes{worker="${w}"}`)).toBeGreaterThan(1e6);
      expect(sample(text, `edgebox_worker_eventloop_delay_p99_seconds{worker="${w}"}`)).toBeGreaterThanOrEqual(0);
    }
  });

  it('/v1/health and /v1/status', async () => {
    const h = await json(fetch(`${d.admin}/v1/health`));
    expect(h).toEqual({ status: 'ok', reasons: [] });
    const pub = await json(fetch(`${d.origin}/v1/health`));
    expect(pub.status).toBe('ok');
    const s = await json(fetch(`${d.admin}/v1/status`));
    expect(s.hardware.cores).toBeGreaterThan(0);
    expect(s.hardware.memoryBytes).toBeGreaterThan(0);
    expect(s.hardware.workers).toBe(2);
    expect(s.hardware.disks[0]).toHaveProperty('rotational');
    expect(s.workers).toEqual({ wanted: 2, alive: 2 });
    expect(JSON.stringify(s)).not.toContain('test-secret'); // no secrets in status
  });

  it('/v1/snapshot has what the control report needs, in its schema', async () => {
    const snap = await json(fetch(`${d.admin}/v1/snapshot`));
    const shape = ApplianceReport.shape;
    expect(shape.health.parse(snap.health)).toEqual({ status: 'ok', reasons: [] });
    expect(shape.load.parse(snap.load).capacityBps).toBeGreaterThan(0);
    const tiers = shape.tiers.parse(snap.tiers);
    expect(tiers.map((t) => t.tier)).toEqual(['ram', 'ssd', 'hdd']);
    expect(tiers[0].usedBytes).toBe(100_000);
    expect(snap.inventory).toEqual(['t1.cold', 't1.hot']);
    expect(snap.draining).toBe(false);
  });

  it('admin actions need the Bearer token', async () => {
    const none = await fetch(`${d.admin}/v1/admin/files`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${d.admin}/v1/admin/files`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error.code).toBe('unauthenticated');
    const files = await json(d.adminFetch('/v1/admin/files'));
    expect(files.files.map((f: { fileId: string }) => f.fileId)).toEqual(['t1.cold', 't1.hot']);
  });

  it('popularity ranks reach the store', async () => {
    const res = await d.adminFetch('/v1/admin/popularity', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ranks: { 't1.cold': 7 } }),
    });
    expect(res.status).toBe(200);
    const files = (await json(d.adminFetch('/v1/admin/files'))).files;
    expect(files.find((f: { fileId: string }) => f.fileId === 't1.cold').rank).toBe(7);
    const bad = await d.adminFetch('/v1/admin/popularity', { method: 'POST', body: '{"ranks":{"t1.cold":"high"}}' });
    expect(bad.status).toBe(400);
  });
});
