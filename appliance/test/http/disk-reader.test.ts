// pumpRange on its own: an SSD's reads are made on the event loop and never wait on the tier's
// read limiter; the threadpool path (HDD) does; both send the same bytes, under backpressure.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, IoLimiter, pumpRange } from '../../src/http/disk-reader.ts';
import type { ServeResponse } from '../../src/http/h1/response.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgebox-disk-reader-'));
const data = randomBytes(2 * CHUNK_BYTES + 12_345);
let fh: FileHandle;

beforeAll(async () => {
  writeFileSync(join(dir, 'f'), data);
  fh = await open(join(dir, 'f'), 'r');
});
afterAll(async () => {
  await fh.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A socket-like response: keeps what it is given, and says "full" on every other write. */
function sink() {
  const parts: Buffer[] = [];
  const listeners = new Map<string, Array<() => void>>();
  let writes = 0;
  const res = {
    destroyed: false,
    write(b: Buffer, cb?: () => void): boolean {
      parts.push(Buffer.from(b));
      queueMicrotask(() => cb?.());
      if (++writes % 2 === 1) return true;
      setImmediate(() => (listeners.get('drain') ?? []).slice().forEach((f) => f()));
      return false;
    },
    on(e: string, f: () => void) {
      listeners.set(e, [...(listeners.get(e) ?? []), f]);
      return res;
    },
    off(e: string, f: () => void) {
      listeners.set(e, (listeners.get(e) ?? []).filter((x) => x !== f));
      return res;
    },
  };
  return { res: res as unknown as ServeResponse, body: () => Buffer.concat(parts) };
}

describe('pumpRange', () => {
  it('reads an SSD file on the event loop: a limiter with no slots left never holds it up', async () => {
    const limiter = new IoLimiter(0, true);
    expect(limiter.acquire()).toBeInstanceOf(Promise); // a threadpool read would wait here forever
    const s = sink();
    const start = 1000;
    const end = data.length - 2;
    expect(await pumpRange(fh, start, end, s.res, limiter)).toBe(end - start + 1);
    expect(s.body().equals(data.subarray(start, end + 1))).toBe(true);
  });

  it('sends the same bytes through the threadpool, within its limiter', async () => {
    const s = sink();
    let begun = 0;
    expect(await pumpRange(fh, 0, data.length - 1, s.res, new IoLimiter(1), () => begun++)).toBe(data.length);
    expect(begun).toBe(1);
    expect(s.body().equals(data)).toBe(true);
  });

  it('a file shorter than its range is an error on the event loop too', async () => {
    await expect(pumpRange(fh, 0, data.length + CHUNK_BYTES, sink().res, new IoLimiter(4, true))).rejects.toThrow(/shorter/);
  });
});
