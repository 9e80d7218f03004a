// A file damaged behind the store's back: the response is cut (never padded or faked), the error
// is counted, health says degraded, and the store re-verifies and quarantines the file.
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdShard } from '../../../protocol/index.ts';
import { CHUNK_BYTES } from '../../src/http/disk-reader.ts';
import { json, rawGet, sample, sleep, startDaemon, type Daemon } from '../daemon/harness.ts';

let d: Daemon;
const ID = 't1.damaged';
// two read chunks and some: cut at half, the first chunk is whole and sent, the second is short
const SIZE = 2 * CHUNK_BYTES + 88_000;

beforeAll(async () => {
  d = await startDaemon({
    files: [
      { fileId: ID, bytes: SIZE, tier: 'ssd' },
      { fileId: 't1.fine', bytes: 1000, tier: 'ssd' },
      { fileId: 't1.small', bytes: 100_000, tier: 'ssd' },
    ],
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

describe('disk read errors', () => {
  it('a small range that can no longer be read gets a clean 503 before any byte is sent', async () => {
    const id = 't1.small';
    // the first reads open the file (the handle is then kept open by each worker)
    for (let i = 0; i < 6; i++) expect((await rawGet(d.port, `/v1/f/${id}?t=${d.token()}`, { Range: 'bytes=0-99' })).status).toBe(206);
    truncateSync(join(d.dir, 'ssd', fileIdShard(id), id), 1000);
    const res = await rawGet(d.port, `/v1/f/${id}?t=${d.token()}`, { Range: 'bytes=50000-50999' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString()).error.code).toBe('disk_error');
  });

  it('cuts the response, counts the error, degrades health and quarantines the file', async () => {
    truncateSync(join(d.dir, 'ssd', fileIdShard(ID), ID), SIZE / 2);
    const res = await rawGet(d.port, `/v1/f/${ID}?t=${d.token()}`, { Range: 'bytes=0-' });
    expect(res.status).toBe(206);
    expect(res.body.length).toBeLessThan(SIZE); // cut short, not padded
    expect(res.body.equals(d.files.get(ID)!.data.subarray(0, res.body.length))).toBe(true);

    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await rawGet(d.port, `/v1/f/${ID}?t=${d.token()}`, { Range: 'bytes=0-9' })).status;
      if (status === 404) break;
      await sleep(100);
    }
    expect(status).toBe(404); // quarantined: no longer served
    const text = await d.metrics();
    expect(sample(text, 'edgebox_disk_read_errors_total{tier="ssd"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'edgebox_store_quarantined_total')).toBeGreaterThanOrEqual(1);
    let health = await json(fetch(`${d.admin}/v1/health`));
    while (!health.reasons.some((r: string) => /disk read errors/.test(r)) && Date.now() < deadline) {
      await sleep(200);
      health = await json(fetch(`${d.admin}/v1/health`));
    }
    expect(health.status).toBe('degraded');
    // the undamaged file is still served
    expect((await rawGet(d.port, `/v1/f/t1.fine?t=${d.token()}`)).status).toBe(200);
  });
});
