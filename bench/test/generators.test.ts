// The bench's own tooling against a real nginx: the wrk range script (uniform and Zipf) and the
// autocannon runner must send valid ranges (no errors, body sizes as asked) and report parsed
// numbers; the CPU meter must see nginx's workers. No figure is asserted, only correctness.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCannon } from '../serve/cannon.ts';
import { cpuMeter, treeCpuSeconds } from '../serve/cpu.ts';
import { writeFileSet, type BenchFile } from '../serve/dataset.ts';
import { combine } from '../serve/measurement.ts';
import { startNginx, type Nginx } from '../serve/nginx.ts';
import { runWrk, writePathList } from '../serve/wrk.ts';
import { meetsTarget, ratioOf, WORKLOADS } from '../serve/workloads.ts';

const KiB = 1024;

describe('serve bench generators against nginx', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgebox-bench-test-'));
  let nginx: Nginx;
  let files: BenchFile[];
  beforeAll(async () => {
    chmodSync(work, 0o755);
    files = writeFileSet(join(work, 'docroot'), { titleId: 'bench-test', count: 3, bytes: 256 * KiB });
    nginx = await startNginx({ docroot: join(work, 'docroot'), prefix: join(work, 'nginx'), sendfile: true, workers: 1 });
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const paths = () => files.map((f) => ({ path: `/v1/f/${f.fileId}?t=x`, bytes: f.bytes }));

  for (const mode of ['uniform', 'zipf'] as const) {
    it(`wrk (${mode}) fetches ranges of the asked size with no errors`, async () => {
      const r = await runWrk({
        origin: nginx.origin,
        pathList: writePathList(join(work, `paths-${mode}.txt`), paths()),
        mode,
        minBytes: 16 * KiB,
        maxBytes: mode === 'zipf' ? 32 * KiB : 16 * KiB,
        seconds: 1,
        threads: 1,
        connections: 2,
      });
      expect(r.errors).toBe(0);
      expect(r.requests).toBeGreaterThan(10);
      const perResponse = r.bytes / r.requests;
      // body plus nginx's response headers (a few hundred bytes)
      expect(perResponse).toBeGreaterThan(16 * KiB);
      expect(perResponse).toBeLessThan((mode === 'zipf' ? 32 : 16) * KiB + 1024);
      expect(r.p99_ms).toBeGreaterThanOrEqual(r.p50_ms);
    });
  }

  it('a missing file shows up as errors, not as throughput', async () => {
    const r = await runWrk({
      origin: nginx.origin,
      pathList: writePathList(join(work, 'paths-missing.txt'), [{ path: '/v1/f/bench-test.nope', bytes: 256 * KiB }]),
      mode: 'uniform', minBytes: 1024, maxBytes: 1024, seconds: 1, threads: 1, connections: 1,
    });
    expect(r.errors).toBe(r.requests);
  });

  it('autocannon sends small ranges with no errors, and the CPU meter sees nginx work', async () => {
    const before = treeCpuSeconds(nginx.child.pid);
    const cpu = cpuMeter(nginx.child.pid);
    const r = await runCannon({ origin: nginx.origin, files: paths(), rangeBytes: 2 * KiB, seconds: 1, connections: 4 });
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(10);
    expect(r.bytes / r.requests).toBeGreaterThan(2 * KiB);
    expect(r.bytes / r.requests).toBeLessThan(3 * KiB);
    expect(cpu()).toBeGreaterThan(0);
    expect(treeCpuSeconds(nginx.child.pid)).toBeGreaterThan(before);
  });
});

describe('serve bench arithmetic', () => {
  it('combines rounds as totals over time and judges each workload on its main figure', () => {
    const m = combine([
      { seconds: 10, requests: 1000, bytes: 1.25e9, p50_ms: 1, p99_ms: 10, errors: 0, cpu: 1 },
      { seconds: 10, requests: 3000, bytes: 3.75e9, p50_ms: 3, p99_ms: 30, errors: 2, cpu: 0.5 },
    ]);
    expect(m).toEqual({ gbps: 2, rps: 200, p50_ms: 2, p99_ms: 20, cpu: 0.75, errors: 2 });
    const byName = Object.fromEntries(WORKLOADS.map((w) => [w.name, w]));
    const a = { gbps: 2, rps: 50, p50_ms: 1, p99_ms: 30, cpu: 1 };
    const b = { gbps: 4, rps: 100, p50_ms: 1, p99_ms: 10, cpu: 1 };
    expect(ratioOf(byName.hot, a, b)).toBe(0.5);
    expect(meetsTarget(byName.hot, 0.5)).toBe(false);
    expect(ratioOf(byName.small, a, b)).toBe(0.5);
    expect(meetsTarget(byName.small, 0.6)).toBe(true);
    expect(ratioOf(byName.conn1k, a, b)).toBe(3);
    expect(meetsTarget(byName.conn1k, 3)).toBe(false);
    expect(meetsTarget(byName.warm, 0.1)).toBeNull();
  });
});
