// Misses on a real daemon: a viewer asks for a file its manifest wants but the store does not hold
// yet. The manifest comes from a stand-in control speaking the fill contract, with the window
// closed (so only misses fetch), and its only source is a test origin that counts requests and
// can hold a body part-way — so the viewers' requests really overlap the one download.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FillFile } from '../../../protocol/index.ts';
import { json, sample, sleep, startDaemon, type Daemon } from '../daemon/harness.ts';
import {
  ENROLLMENT_TOKEN, manifestFor, promtoolCheck, randomFile, startContractControl, startOrigin, type ContractControl, type Origin,
} from './helpers/fill-contract.ts';

let control: ContractControl;
let origin: Origin;
let d: Daemon;
const A = 'ms.a'; // wanted, streamed to 100 viewers
const B = 'ms.b'; // at the origin, but not in the manifest
const C = 'ms.c'; // wanted, and the origin serves it damaged
const a = randomFile(3_000_000);
const b = randomFile(10_000);
const c = randomFile(2_000_000);

function entry(fileId: string, f: { data: Buffer; sha256: string }, rank: number): FillFile {
  return { fileId, bytes: f.data.length, sha256: f.sha256, kind: 'video', rank, tier: 'ssd', sources: ['origin'] };
}

beforeAll(async () => {
  control = await startContractControl();
  origin = await startOrigin(control);
  origin.files.set(A, { data: a.data });
  origin.files.set(B, { data: b.data });
  origin.files.set(C, { data: c.data, corruptAt: c.data.length - 10 });
  control.setManifest(manifestFor(control, {
    files: [entry(A, a, 0), entry(C, c, 1)],
    sources: [{ id: 'origin', level: 'origin', baseUrl: origin.url }],
  }));
  d = await startDaemon({
    settings: {
      controlUrl: control.url,
      report: { enrollmentToken: ENROLLMENT_TOKEN, publicUrl: 'http://127.0.0.1:9' },
      fill: { sourceRetryMs: 100, originMs: 2_000 },
    },
  });
  // the manifest has reached the workers (and so the fill engine) once the peer path knows keys
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${d.origin}/v1/peer/f/ms.none`, { method: 'HEAD', headers: { authorization: `Bearer ${control.peerToken()}` } });
    if (res.status === 404) break;
    if (Date.now() > deadline) throw new Error(`no manifest taken on (peer path ${res.status})`);
    await sleep(100);
  }
});
afterAll(async () => {
  await origin?.stop();
  expect(await d?.stop()).toBe(0);
  await control?.stop();
});

const viewerUrl = (fileId: string) => `${d.origin}/v1/f/${fileId}?t=${d.token({ title: 'ms' })}`;

async function published(fileId: string): Promise<boolean> {
  const { files } = (await (await d.adminFetch('/v1/admin/files')).json()) as { files: { fileId: string }[] };
  return files.some((f) => f.fileId === fileId);
}

async function metric(name: string): Promise<number> {
  return sample(await d.metrics(), name) ?? 0;
}

/** Wait until every one of `n` requests is being answered or has been answered. */
async function untilArrived(n: number, settled: () => number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await metric('edgebox_http_in_flight_requests')) + settled() < n) {
    if (Date.now() > deadline) throw new Error('the requests never all reached the daemon');
    await sleep(50);
  }
}

describe('misses', () => {
  it('a file not in the manifest is a fast 404 and nothing is fetched', async () => {
    const res = await fetch(viewerUrl(B));
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('not_found');
    expect(origin.requests.get(B)).toBeUndefined();
    await expect.poll(() => metric('edgebox_miss_requests_total{outcome="not_wanted"}')).toBe(1);
  });

  it('100 concurrent viewers of a wanted file share one upstream fetch and all get byte-exact data', async () => {
    const n = a.data.length;
    const held = 700_000;
    origin.holdAfter = held; // the origin sends this much, then waits until every viewer is in
    const ranges: (string | undefined)[] = [
      undefined, 'bytes=0-999', 'bytes=500000-699999', 'bytes=650000-1999999', `bytes=${n - 1000}-`, 'bytes=-4096',
      'bytes=2500000-', 'bytes=1-1', 'bytes=0-9, 2000000-2000099', `bytes=${held - 1}-${held}`,
    ];
    let settled = 0;
    const requests = Array.from({ length: 100 }, async (_, i) => {
      const range = ranges[i % ranges.length];
      const res = await fetch(viewerUrl(A), { headers: range ? { range } : {} });
      const body = Buffer.from(await res.arrayBuffer());
      settled++;
      return { range, status: res.status, headers: res.headers, body };
    });
    await untilArrived(100, () => settled);
    // while the download is held part-way: one upstream request, and HEAD knows the headers
    await expect.poll(() => origin.requests.get(A) ?? 0).toBe(1);
    const head = await fetch(viewerUrl(A), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(n));
    expect(head.headers.get('etag')).toBe(`"${a.sha256.slice(0, 32)}"`);
    origin.release();
    origin.holdAfter = undefined;

    for (const r of await Promise.all(requests)) {
      if (r.range === undefined) {
        expect(r.status).toBe(200);
        expect(r.body.equals(a.data)).toBe(true);
      } else if (r.range.includes(',')) {
        expect(r.status).toBe(206);
        const boundary = /boundary=(\S+)/.exec(r.headers.get('content-type')!)![1];
        const parts = r.body.toString('latin1').split(`--${boundary}`).slice(1, -1);
        const payload = (p: string) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4, -2), 'latin1');
        expect(payload(parts[0]).equals(a.data.subarray(0, 10))).toBe(true);
        expect(payload(parts[1]).equals(a.data.subarray(2_000_000, 2_000_100))).toBe(true);
      } else {
        expect(r.status, r.range).toBe(206);
        const [start, end] = r.headers.get('content-range')!.replace('bytes ', '').split('/')[0].split('-').map(Number);
        expect(r.body.equals(a.data.subarray(start, end + 1)), r.range).toBe(true);
        expect(r.headers.get('etag')).toBe(head.headers.get('etag'));
      }
    }
    expect(origin.requests.get(A)).toBe(1);
    // the HEAD counts too: it was answered from the download's manifest entry
    // (a response is counted when it closes, a moment after the client read its last byte)
    await expect.poll(() => metric('edgebox_miss_requests_total{outcome="filled_through"}')).toBe(101);
    expect(await metric('edgebox_miss_requests_total{outcome="failed"}')).toBe(0);
  });

  it('once published, the file is an ordinary hit', async () => {
    const deadline = Date.now() + 10_000;
    while (!(await published(A))) {
      if (Date.now() > deadline) throw new Error(`${A} never published`);
      await sleep(50);
    }
    const fillBytes = await metric('edgebox_served_bytes_total{tier="fill"}');
    const misses = await metric('edgebox_miss_requests_total{outcome="filled_through"}');
    const res = await fetch(viewerUrl(A), { headers: { range: 'bytes=100-199' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(a.data.subarray(100, 200))).toBe(true);
    expect(await metric('edgebox_served_bytes_total{tier="fill"}')).toBe(fillBytes);
    expect(await metric('edgebox_miss_requests_total{outcome="filled_through"}')).toBe(misses);
    expect(origin.requests.get(A)).toBe(1);
  });

  it('an upstream serving damaged bytes: viewers are cut off, never completed, and nothing is published', async () => {
    origin.holdAfter = 1_000_000;
    const n = c.data.length;
    // two whole-file viewers whose headers (and first bytes) are out before the damage is found…
    const whole = await Promise.all([0, 1].map(() => fetch(viewerUrl(C))));
    expect(whole.map((r) => r.status)).toEqual([200, 200]);
    // …and viewers of ranges that end at the last byte, some of them still waiting for bytes
    let settled = 0;
    const ranges = [`bytes=${n - 100_000}-`, 'bytes=-50', 'bytes=900000-'];
    const outcome = async (res: Response | Promise<Response>) => {
      try {
        const r = await res;
        const body = Buffer.from(await r.arrayBuffer()); // rejects when the response is cut
        return { status: r.status, body };
      } catch (e) {
        return { error: e as Error };
      } finally {
        settled++;
      }
    };
    const cut = whole.map((r) => outcome(r));
    const others = ranges.map((range) => outcome(fetch(viewerUrl(C), { headers: { range } })));
    await untilArrived(2 + ranges.length, () => settled);
    origin.release();
    origin.holdAfter = undefined;
    for (const r of await Promise.all(cut)) expect('error' in r, 'a whole-file response completed').toBe(true);
    for (const r of await Promise.all(others)) {
      if ('error' in r) continue; // cut mid-body
      // or refused before any byte: never a completed 206
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body.toString()).error.code).toBe('fill_failed');
    }
    await expect.poll(() => metric('edgebox_miss_requests_total{outcome="failed"}')).toBe(2 + ranges.length);
    expect(await published(C)).toBe(false);
  });

  it('/metrics with the miss series in use still passes promtool check metrics', async () => {
    expect(await promtoolCheck(await d.metrics(), d.dir)).not.toMatch(/error|should/i);
  });
});
