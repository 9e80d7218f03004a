// The peer path (GET|HEAD /v1/peer/f/:fileId) on a real daemon whose fill manifest comes from a
// stand-in control speaking the fill contract: 503 before any manifest, the peer-token table,
// byte-exact bodies from every tier, 404 for a file not held, viewer and peer credentials each
// refused on the other's path, peer series apart from the viewers', and the peer rate limit
// proven by the pacing counter (bytes whose write was delayed), never by timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePeerSigningKey, signPeerToken, type FillFile } from '../../../protocol/index.ts';
import { CHUNK_BYTES } from '../../src/http/disk-reader.ts';
import { json, rawGet, sample, sha256, sleep, startDaemon, type Daemon } from '../daemon/harness.ts';
import { ENROLLMENT_TOKEN, manifestFor, promtoolCheck, startContractControl, type ContractControl } from './helpers/fill-contract.ts';

let control: ContractControl;
let d: Daemon;
const ID = { ram: 'pr.ram', ssd: 'pr.ssd', hdd: 'pr.hdd' } as const;
const CHUNK = CHUNK_BYTES;

beforeAll(async () => {
  control = await startContractControl();
  d = await startDaemon({
    files: [
      { fileId: ID.ram, bytes: 600_000, tier: 'ram' },
      // well over the pacer's burst plus one quantum (a read chunk each): its body must wait at
      // least once however full the bucket is when the pacing test asks for it
      { fileId: ID.ssd, bytes: 3 * CHUNK + 200_000, tier: 'ssd' },
      { fileId: ID.hdd, bytes: 1_800_001, tier: 'hdd' },
    ],
    settings: {
      controlUrl: control.url,
      report: { enrollmentToken: ENROLLMENT_TOKEN, publicUrl: 'http://127.0.0.1:9' },
      faultInjection: true,
      workerRestartMinMs: 200,
    },
    waitRam: true,
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
  await control?.stop();
});

function peer(fileId: string, init: { method?: string; headers?: Record<string, string> } = {}, token: string | null = control.peerToken()) {
  return fetch(`${d.origin}/v1/peer/f/${fileId}`, {
    method: init.method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
  });
}

async function metric(name: string): Promise<number> {
  return sample(await d.metrics(), name) ?? 0;
}

/** Σ of every sample of a series (all label sets). */
async function total(name: string): Promise<number> {
  let n = 0;
  for (const line of (await d.metrics()).split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** The manifest wants what the box holds (anything it does not list may be evicted). */
function held(): FillFile[] {
  return [...d.files.values()].map((f, rank) => ({
    fileId: f.fileId, bytes: f.data.length, sha256: sha256(f.data), kind: 'video', rank, tier: f.tier === 'hdd' ? 'hdd' : 'ssd', sources: [],
  }));
}

async function untilStatus(want: number, fileId: string = ID.ssd): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await peer(fileId, { method: 'HEAD' });
    if (res.status === want) return;
    if (Date.now() > deadline) throw new Error(`peer path still answers ${res.status}`);
    await sleep(100);
  }
}

describe('peer path', () => {
  it('answers 503 with a JSON error until a fill manifest has brought the peer keys', async () => {
    const res = await peer(ID.ssd);
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe('peer_keys_unknown');
    control.setManifest(manifestFor(control, { files: held(), sources: [] }));
    await untilStatus(200);
  });

  describe('credentials', () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    const viewer = () => d.token();
    const table: [string, number, () => Response | Promise<Response>][] = [
      ['valid peer token', 200, () => peer(ID.ssd)],
      ['valid for several sites', 200, () => peer(ID.ssd, {}, control.peerToken({ sites: ['ix-1', 'lon-1'] }))],
      ['expired', 403, () => peer(ID.ssd, {}, control.peerToken({ exp: nowSec() - 1 }))],
      ['for another site', 403, () => peer(ID.ssd, {}, control.peerToken({ sites: ['par-1'] }))],
      ['forged (another key under the same id)', 403, () =>
        peer(ID.ssd, {}, signPeerToken(generatePeerSigningKey(control.key.kid), { exp: nowSec() + 60, sub: 'app-2', sites: ['lon-1'] }))],
      ['none', 403, () => peer(ID.ssd, {}, null)],
      ['a viewer URL token as the Bearer credential', 403, () => peer(ID.ssd, {}, viewer())],
      ['a viewer URL token in the query', 403, () => fetch(`${d.origin}/v1/peer/f/${ID.ssd}?t=${viewer()}`)],
      ['a peer token in the viewer query', 403, () => fetch(`${d.origin}/v1/f/${ID.ssd}?t=${control.peerToken()}`)],
      ['a peer token in the viewer path form', 403, () => fetch(`${d.origin}/v1/t/${control.peerToken()}/f/${ID.ssd}`)],
      ['a peer token as a Bearer header on the viewer path', 403, () =>
        fetch(`${d.origin}/v1/f/${ID.ssd}`, { headers: { authorization: `Bearer ${control.peerToken()}` } })],
    ];
    it.each(table)('%s → %i', async (_name, want, send) => {
      const res = await send();
      expect(res.status).toBe(want);
      const body = Buffer.from(await res.arrayBuffer());
      if (want === 403) {
        // the same shape as every other token failure
        const err = JSON.parse(body.toString()).error;
        expect(err.code).toBe('forbidden');
        expect(err.message).toMatch(/^token /);
      } else {
        expect(body.equals(d.files.get(ID.ssd)!.data)).toBe(true);
      }
    });
  });

  describe.each(['ram', 'ssd', 'hdd'] as const)('from the %s tier', (tier) => {
    const fileId = ID[tier];
    const data = () => d.files.get(fileId)!.data;

    it('whole file and ranges, byte-exact, with the same validators as viewers get', async () => {
      const whole = await peer(fileId);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(data())).toBe(true);
      const viewerHead = await fetch(`${d.origin}/v1/f/${fileId}?t=${d.token({ title: 'pr' })}`, { method: 'HEAD' });
      expect(whole.headers.get('etag')).toBe(viewerHead.headers.get('etag'));
      expect(whole.headers.get('content-length')).toBe(String(data().length));
      const n = data().length;
      // a resumed fill asks for the rest of the file with an open range
      for (const [range, start, end] of [['bytes=1000-263143', 1000, 263143], [`bytes=${n - 300_000}-`, n - 300_000, n - 1], ['bytes=-10', n - 10, n - 1]] as const) {
        const res = await peer(fileId, { headers: { range } });
        expect(res.status, range).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${n}`);
        expect(Buffer.from(await res.arrayBuffer()).equals(data().subarray(start, end + 1)), range).toBe(true);
      }
    });

    it('multiple ranges as multipart/byteranges', async () => {
      const res = await peer(fileId, { headers: { range: 'bytes=0-9, 300000-300099' } });
      expect(res.status).toBe(206);
      const boundary = /boundary=(\S+)/.exec(res.headers.get('content-type')!)![1];
      const parts = Buffer.from(await res.arrayBuffer()).toString('latin1').split(`--${boundary}`).slice(1, -1);
      expect(parts).toHaveLength(2);
      const payload = (p: string) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4, -2), 'latin1');
      expect(payload(parts[0]).equals(data().subarray(0, 10))).toBe(true);
      expect(payload(parts[1]).equals(data().subarray(300_000, 300_100))).toBe(true);
    });

    it('HEAD: headers only', async () => {
      const res = await peer(fileId, { method: 'HEAD', headers: { range: 'bytes=10-19' } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-length')).toBe('10');
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    });
  });

  it('a file the box does not hold is a plain 404 (never a fill for a peer)', async () => {
    const res = await peer('pr.other');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('not_found');
    expect(await total('edgebox_miss_requests_total')).toBe(0);
  });

  it('304 for a matching If-None-Match, as on the viewer path', async () => {
    const etag = (await peer(ID.hdd, { method: 'HEAD' })).headers.get('etag')!;
    const res = await peer(ID.hdd, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
  });

  it('counts peers in their own series: viewer series and viewer demand do not move', async () => {
    const viewerRequests = await total('edgebox_http_requests_total');
    const viewerBytes = await total('edgebox_served_bytes_total');
    const peer200 = await metric('edgebox_peer_requests_total{status="200"}');
    const peer403 = await metric('edgebox_peer_requests_total{status="403"}');
    const peerBytes = await metric('edgebox_peer_served_bytes_total{status="200"}');
    expect((await peer(ID.hdd)).status).toBe(200);
    expect((await peer(ID.hdd, {}, null)).status).toBe(403);
    // a response is counted when it closes, a moment after the client has read its last byte
    await expect.poll(() => metric('edgebox_peer_requests_total{status="200"}')).toBe(peer200 + 1);
    await expect.poll(() => metric('edgebox_peer_requests_total{status="403"}')).toBe(peer403 + 1);
    await expect.poll(() => metric('edgebox_peer_served_bytes_total{status="200"}')).toBe(peerBytes + d.files.get(ID.hdd)!.data.length);
    expect(await total('edgebox_http_requests_total')).toBe(viewerRequests);
    expect(await total('edgebox_served_bytes_total')).toBe(viewerBytes);
  });

  it('peer bodies are paced at peerServeRateBps; viewer bodies never are', async () => {
    const fileId = ID.ssd;
    const data = d.files.get(fileId)!.data;
    expect(await metric('edgebox_peer_paced_bytes_total')).toBe(0); // unlimited so far
    // 16 Mb/s for the box: 1 MB/s for each of the 2 workers, a burst of one read chunk
    control.setManifest(manifestFor(control, { files: held(), sources: [], peerServeRateBps: 16_000_000 }));
    const deadline = Date.now() + 20_000;
    while ((await metric('edgebox_peer_paced_bytes_total')) === 0) {
      if (Date.now() > deadline) throw new Error('the new peer rate never reached the workers');
      await (await peer(ID.ram, { headers: { range: `bytes=0-${CHUNK * 2}` } })).arrayBuffer();
    }
    // the rate is in force: a whole file now waits for tokens for all but the bucket's burst
    const before = await metric('edgebox_peer_paced_bytes_total');
    const res = await peer(fileId);
    const body = Buffer.from(await res.arrayBuffer());
    expect([res.status, body.length]).toEqual([200, data.length]);
    expect(body.equals(data)).toBe(true);
    const paced = await metric('edgebox_peer_paced_bytes_total');
    expect(paced - before).toBeGreaterThanOrEqual(data.length - CHUNK);
    expect(await metric('edgebox_peer_pacing_seconds_total')).toBeGreaterThan(0);

    const viewer = await fetch(`${d.origin}/v1/f/${fileId}?t=${d.token({ title: 'pr' })}`);
    expect(Buffer.from(await viewer.arrayBuffer()).equals(data)).toBe(true);
    expect(await metric('edgebox_peer_paced_bytes_total')).toBe(paced);
  });

  it('a restarted worker has the peer keys before it answers: no 503 from it', async () => {
    expect((await d.adminFetch('/v1/admin/fault/crash-worker?worker=0', { method: 'POST' })).status).toBe(202);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const text = await d.metrics();
      if (sample(text, 'edgebox_workers') === 2 && sample(text, 'edgebox_worker_restarts_total') === 1) break;
      if (Date.now() > deadline) throw new Error('worker 0 was not restarted');
      await sleep(50);
    }
    // fresh connections, so the kernel spreads them over both workers
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const res = await rawGet(d.port, `/v1/peer/f/${ID.hdd}`, { authorization: `Bearer ${control.peerToken()}`, range: 'bytes=0-99' });
      statuses.add(res.status);
    }
    expect([...statuses]).toEqual([206]);
  });

  it('/metrics with the peer series in use still passes promtool check metrics', async () => {
    expect(await promtoolCheck(await d.metrics(), d.dir)).not.toMatch(/error|should/i);
  });
});
