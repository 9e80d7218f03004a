// The viewers workload's client against a real nginx on loopback, over HTTP and HTTPS: every
// request it makes must end as exactly one of on time, late or failed, answered bytes must be the
// ranges' lengths, a file shorter than its layout must show up as failures, and the search must
// bracket the largest passing count. No figure is asserted, only the accounting.

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSet, type BenchFile } from '../serve/dataset.ts';
import { startNginx, type Nginx } from '../serve/nginx.ts';
import { makeBenchCert, type BenchCert } from '../serve/tls-cert.ts';
import { nextViewers, outcome, type SearchSettings, type SearchStep } from '../serve/viewer-search.ts';
import { runViewers, type Tally, type ViewersConfig, type ViewersResult } from '../serve/viewers-client.ts';
import { renditionLayout, segmentRange, zipfCdf, zipfPick, type RenditionFile } from '../serve/viewers-plan.ts';
import { runViewerStep } from '../serve/viewers.ts';

// every rendition the same size here, so the answered bytes can be predicted from the counts
const LAYOUT = renditionLayout(80_000, 6); // 20,000-byte segments
const SMALL_PAIR = LAYOUT.initBytes + LAYOUT.indexBytes;

function checkTally(t: Tally, bytesOfAnswered: (answered: number) => number) {
  expect(t.requested).toBe(t.onTime + t.late + t.failed);
  expect(t.bytes).toBe(bytesOfAnswered(t.onTime + t.late));
}

function checkAccounting(r: ViewersResult) {
  for (const phase of [r.measured, r.warmup]) {
    checkTally(phase.segments, (n) => n * LAYOUT.segmentBytes);
    // init and index go in pairs; when none failed, the bytes are whole pairs
    if (phase.small.failed === 0) checkTally(phase.small, (n) => (n / 2) * SMALL_PAIR);
    else expect(phase.small.requested).toBe(phase.small.onTime + phase.small.late + phase.small.failed);
  }
  // the per-title tallies split the measured segments exactly
  for (const k of ['requested', 'onTime', 'late', 'failed', 'bytes'] as const) {
    expect(r.by_title.reduce((a, t) => a + t[k], 0)).toBe(r.measured.segments[k]);
  }
  const failed = r.measured.segments.failed + r.measured.small.failed + r.warmup.segments.failed + r.warmup.small.failed;
  expect(Object.values(r.failures).reduce((a, b) => a + b, 0)).toBe(failed);
}

describe('viewers client against nginx', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgebox-viewers-test-'));
  let nginx: Nginx;
  let cert: BenchCert;
  let files: BenchFile[][];
  let titles: RenditionFile[][];
  beforeAll(async () => {
    chmodSync(work, 0o755);
    const docroot = join(work, 'docroot');
    files = [0, 1, 2].map((t) => [0, 1].map((r) => writeFileSet(docroot, { titleId: `view-test${t}`, count: 1, bytes: LAYOUT.bytes, firstIndex: r })[0]));
    titles = files.map((fs) => fs.map((f) => ({ ...LAYOUT, path: `/v1/f/${f.fileId}?t=x` })));
    cert = makeBenchCert(join(work, 'tls'));
    nginx = await startNginx({ docroot, prefix: join(work, 'nginx'), sendfile: true, workers: 1, tls: cert });
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const config = (over: Partial<ViewersConfig>): ViewersConfig => ({
    origin: nginx.origin,
    titles,
    viewers: 12,
    seed: 7,
    zipfS: 1,
    periodMs: 200,
    deadlineMs: 1000,
    warmupMs: 200,
    measureMs: 1200,
    // long enough that a loaded machine never turns a slow answer into a failure here
    timeoutMs: 30_000,
    ...over,
  });

  it('over HTTP: every request answered, byte-exact, and titles roll over with init and index', async () => {
    const phases: string[] = [];
    const r = await runViewers(config({ onPhase: (p) => phases.push(p) }));
    expect(phases).toEqual(['measure-start', 'measure-end']);
    checkAccounting(r);
    expect(r.failures).toEqual({});
    expect(r.unexpected_bytes).toBe(0);
    // 12 viewers × 6 ticks measured (give or take the tick on the window's edge)
    expect(r.measured.segments.requested).toBeGreaterThanOrEqual(12 * 5);
    // 6-segment titles: players finish titles and start new ones inside the window
    expect(r.measured.small.requested).toBeGreaterThan(0);
    expect(r.warmup.small.requested).toBe(2 * 12);
    expect(r.connections_opened).toBe(12);
    expect(r.segment_p99_ms).toBeGreaterThanOrEqual(r.segment_p50_ms);
    expect(r.client_cpu).toBeGreaterThan(0);
  });

  it('over HTTPS: the same schedule, the same accounting', async () => {
    const plain = await runViewers(config({}));
    const r = await runViewers(config({ origin: nginx.tlsOrigin!, caPem: cert.caPem }));
    checkAccounting(r);
    expect(r.failures).toEqual({});
    // the schedule is the seed's, not the server's: same requests in the warm-up
    expect(r.warmup.segments.requested).toBe(plain.warmup.segments.requested);
    expect(r.warmup.small.requested).toBe(plain.warmup.small.requested);
  });

  it('a segment answered after the deadline is late, not on time', async () => {
    const r = await runViewers(config({ deadlineMs: 0, viewers: 4 }));
    checkAccounting(r);
    expect(r.measured.segments.onTime).toBe(0);
    expect(r.measured.segments.late).toBe(r.measured.segments.requested);
  });

  it('a file shorter than its layout makes failures, and the accounting still adds up', async () => {
    const shortFile = files[2][1];
    truncateSync(shortFile.path, segmentRange(LAYOUT, 2)[0]); // segments 2… are missing
    try {
      // many viewers so that the least popular title is watched
      const r = await runViewers(config({ viewers: 40 }));
      checkAccounting(r);
      // the per-title tallies split the measured segments exactly
  for (const k of ['requested', 'onTime', 'late', 'failed', 'bytes'] as const) {
    expect(r.by_title.reduce((a, t) => a + t[k], 0)).toBe(r.measured.segments[k]);
  }
  const failed = r.measured.segments.failed + r.warmup.segments.failed;
      expect(failed).toBeGreaterThan(0);
      // nginx's open-file cache may still hold the old size: it then sends short and closes
      for (const reason of Object.keys(r.failures)) expect(reason).toMatch(/^(status 416|wrong content-length|wrong content-range|connection closed)$/);
    } finally {
      writeFileSet(join(work, 'docroot'), { titleId: 'view-test2', count: 1, bytes: LAYOUT.bytes, firstIndex: 1 });
    }
  });

  it('a server that is not there fails every request, none lost', async () => {
    const r = await runViewers(config({ origin: 'http://127.0.0.1:1', viewers: 3, measureMs: 400 }));
    checkAccounting(r);
    expect(r.measured.segments.onTime + r.measured.segments.late).toBe(0);
    expect(r.measured.segments.failed).toBe(r.measured.segments.requested);
  });

  it('runs as child processes sharing the viewers and meters the server over the measured window', async () => {
    const { onPhase: _, ...c } = config({ viewers: 6, measureMs: 800 });
    // nginx's share of so light a load can round to no clock tick at all: meter a process that is
    // surely busy instead, so a window that never opens (no meter) shows as 0
    const busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    try {
      // two processes, three viewers each: together the same players as one process would run
      const r = await runViewerStep(c, busy.pid, 2);
      checkAccounting(r);
      expect(r.failures).toEqual({});
      expect(r.server_cpu).toBeGreaterThan(0);
      expect(r.connections_opened).toBe(6);
      expect(r.warmup.segments.requested).toBe(6);
      expect(r.warmup.small.requested).toBe(12);
      expect(r.segment_latencies_ms.length).toBe(r.measured.segments.onTime + r.measured.segments.late);
    } finally {
      busy.kill('SIGKILL');
    }
  });
});

describe('viewers search and plan', () => {
  const s: SearchSettings = { start: 500, max: 8000, maxSteps: 12, resolution: 0.05, granularity: 10 };
  const run = (capacity: number) => {
    const steps: SearchStep[] = [];
    for (let n = nextViewers(steps, s); n !== undefined; n = nextViewers(steps, s)) steps.push({ viewers: n, pass: n <= capacity });
    return { steps, ...outcome(steps, s) };
  };

  it('doubles, then bisects to within 5 % below the capacity, in bounded steps', () => {
    for (const capacity of [30, 777, 2500, 5999]) {
      const r = run(capacity);
      expect(r.maxViewers).toBeLessThanOrEqual(capacity);
      expect(r.maxViewers).toBeGreaterThanOrEqual(Math.floor(capacity * 0.95) - 10);
      expect(r.steps.length).toBeLessThanOrEqual(s.maxSteps);
      expect(r.capped).toBe(false);
    }
    const capped = run(100_000);
    expect(capped.capped).toBe(true);
    expect(capped.maxViewers).toBe(8000);
    expect(run(0).maxViewers).toBe(0);
    expect(nextViewers([{ viewers: 500, pass: true }], { ...s, maxSteps: 1 })).toBeUndefined();
  });

  it('a fail just above a pass is run once more, and the rerun stands', () => {
    const r: SearchSettings = { ...s, retryWithin: 0.15 };
    // the quiet run's HTTP edgebox search: 10,000 failed (noise), then 9,000 passed
    const steps: SearchStep[] = [8000, 16000, 12000, 10000, 9000].map((viewers) => ({ viewers, pass: viewers <= 9000 }));
    expect(nextViewers(steps, r)).toBe(10000);
    expect(nextViewers(steps, s)).toBe(9500); // without retries: bisect below the fail
    // the rerun passes: 10,000 counts as held, and the search goes on between it and 12,000
    const passed = [...steps, { viewers: 10000, pass: true }];
    expect(outcome(passed, r)).toMatchObject({ maxViewers: 10000, firstFail: 12000 });
    expect(nextViewers(passed, r)).toBe(11000);
    // the rerun fails too: no third run, the bisection goes on below it
    const failed = [...steps, { viewers: 10000, pass: false }];
    expect(outcome(failed, r)).toMatchObject({ maxViewers: 9000, firstFail: 10000 });
    expect(nextViewers(failed, r)).toBe(9500);
    // a fail far above the pass is not rerun
    expect(nextViewers([{ viewers: 1000, pass: true }, { viewers: 2000, pass: false }], r)).toBe(1500);
  });

  it('Zipf picks favour the first title, and every title is reachable', () => {
    const cdf = zipfCdf(8, 1);
    expect(cdf[7]).toBeCloseTo(1, 12);
    expect(zipfPick(cdf, 0)).toBe(0);
    expect(zipfPick(cdf, 0.999999)).toBe(7);
    expect(cdf[0]).toBeCloseTo(1 / (1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 + 1 / 7 + 1 / 8), 12);
  });
});
