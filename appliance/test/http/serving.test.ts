// Byte-exact responses from every tier, and the HTTP semantics around them, against a real
// daemon process with files published through the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES } from '../../src/http/disk-reader.ts';
import { json, sample, startDaemon, type Daemon } from '../daemon/harness.ts';

let d: Daemon;
const ID = { ram: 't1.ram', ssd: 't1.ssd', hdd: 't1.hdd' } as const;

beforeAll(async () => {
  d = await startDaemon({
    files: [
      { fileId: ID.ram, bytes: 1_500_000, tier: 'ram' },
      { fileId: ID.ssd, bytes: 1_400_000, tier: 'ssd', kind: 'audio' },
      { fileId: ID.hdd, bytes: 1_800_001, tier: 'hdd' },
    ],
    waitRam: true,
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

function url(fileId: string, token = d.token()): string {
  return `${d.origin}/v1/f/${fileId}?t=${token}`;
}

async function servedBytes(tier: string): Promise<number> {
  return sample(await d.metrics(), `edgebox_served_bytes_total{tier="${tier}"}`) ?? 0;
}

describe.each(['ram', 'ssd', 'hdd'] as const)('from the %s tier', (tier) => {
  const fileId = ID[tier];
  const data = () => d.files.get(fileId)!.data;

  it('serves the whole file byte-exact, with validators', async () => {
    const before = await servedBytes(tier);
    const res = await fetch(url(fileId));
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(data())).toBe(true);
    expect(res.headers.get('content-length')).toBe(String(data().length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/);
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('content-type')).toBe(tier === 'ssd' ? 'audio/mp4' : 'video/mp4');
    // the body came from the tier the fixture put the file on
    expect((await servedBytes(tier)) - before).toBe(data().length);
  });

  it('serves single ranges byte-exact: plain, open, suffix, clamped, across chunk edges', async () => {
    const n = data().length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      [`bytes=1000-${CHUNK_BYTES + 6999}`, 1000, CHUNK_BYTES + 6999], // spans a disk read chunk boundary
      [`bytes=${n - 10}-`, n - 10, n - 1],
      ['bytes=-4096', n - 4096, n - 1],
      [`bytes=${n - 5}-${n + 1000}`, n - 5, n - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(url(fileId), { headers: { range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${n}`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(data().subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers multiple ranges with multipart/byteranges', async () => {
    const res = await fetch(url(fileId), { headers: { range: 'bytes=0-9, 100-199, -5' } });
    expect(res.status).toBe(206);
    const type = res.headers.get('content-type')!;
    const boundary = /boundary=(\S+)/.exec(type)![1];
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const n = data().length;
    const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1);
    const want: [number, number][] = [[0, 9], [100, 199], [n - 5, n - 1]];
    expect(parts).toHaveLength(3);
    parts.forEach((p, i) => {
      const [start, end] = want[i];
      expect(p).toContain(`Content-Range: bytes ${start}-${end}/${n}`);
      const payload = Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4, -2), 'latin1');
      expect(payload.equals(data().subarray(start, end + 1))).toBe(true);
    });
  });

  it('HEAD gives the headers without a body', async () => {
    const res = await fetch(url(fileId), { method: 'HEAD', headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe('10');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

describe('HTTP semantics', () => {
  const fileId = ID.ssd;
  const data = () => d.files.get(fileId)!.data;

  it('416 with Content-Range bytes */size for an unsatisfiable range', async () => {
    const res = await fetch(url(fileId), { headers: { range: `bytes=${data().length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${data().length}`);
    expect((await json(res)).error.code).toBe('range_not_satisfiable');
  });

  it('overlapping ranges adding up to more than the file get the whole file once (200)', async () => {
    const res = await fetch(url(fileId), { headers: { range: 'bytes=0-,0-,0-' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data())).toBe(true);
  });

  it('more than maxRanges ranges: the Range header is ignored (200)', async () => {
    const many = Array.from({ length: 17 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
    const res = await fetch(url(fileId), { headers: { range: `bytes=${many}` } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(data().length);
  });

  it('a malformed Range is ignored (200, whole file)', async () => {
    const res = await fetch(url(fileId), { headers: { range: 'bytes=zz' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data())).toBe(true);
  });

  it('304 for a matching If-None-Match or If-Modified-Since', async () => {
    const first = await fetch(url(fileId), { method: 'HEAD' });
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const a = await fetch(url(fileId), { headers: { 'if-none-match': etag } });
    expect(a.status).toBe(304);
    expect(a.headers.get('etag')).toBe(etag);
    const b = await fetch(url(fileId), { headers: { 'if-modified-since': lastModified } });
    expect(b.status).toBe(304);
    const c = await fetch(url(fileId), { headers: { 'if-none-match': '"other"' } });
    expect(c.status).toBe(200);
    await c.arrayBuffer();
  });

  it('If-Range: a matching validator keeps the range, a stale one gets the whole file', async () => {
    const etag = (await fetch(url(fileId), { method: 'HEAD' })).headers.get('etag')!;
    const same = await fetch(url(fileId), { headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect(same.status).toBe(206);
    await same.arrayBuffer();
    const stale = await fetch(url(fileId), { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(data().length);
  });

  it('the path form /v1/t/<token>/f/<fileId> serves the same bytes', async () => {
    const res = await fetch(`${d.origin}/v1/t/${d.token()}/f/${fileId}`, { headers: { range: 'bytes=5-14' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(data().subarray(5, 15))).toBe(true);
  });

  it('CORS: preflight allows Range, responses expose Content-Range', async () => {
    const pre = await fetch(url(fileId), {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Range/);
    const res = await fetch(url(fileId), { headers: { origin: 'https://player.example', range: 'bytes=0-1' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Content-Range/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    await res.arrayBuffer();
  });

  it('a request for a file the box does not hold, with a valid token, is 404', async () => {
    const res = await fetch(url('t1.missing'));
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('not_found');
  });
});
