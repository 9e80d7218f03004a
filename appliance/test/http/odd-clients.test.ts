// Clients that behave oddly but legally, over raw sockets against a real daemon: a request
// followed at once by a half-close (FIN) gets its answer even when the body comes from disk, and a
// malformed request pipelined behind good ones is answered only after their responses, whole.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../daemon/harness.ts';
import { splitReplies } from './helpers/raw-replies.ts';

let d: Daemon;
const SSD = 't1.ssd';
const HDD = 't1.hdd';
const SIZE = 1_400_000; // more than one disk read chunk: never the synchronous small-read path

beforeAll(async () => {
  d = await startDaemon({
    files: [
      { fileId: SSD, bytes: SIZE, tier: 'ssd' },
      { fileId: HDD, bytes: SIZE, tier: 'hdd' },
    ],
  });
});
afterAll(async () => {
  expect(await d?.stop()).toBe(0);
});

const parseAll = splitReplies;

/** Send `bytes` on a fresh connection (optionally half-closing after), collect all until close. */
function exchange(bytes: string, halfClose: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(d.port, '127.0.0.1', () => {
      if (halfClose) sock.end(bytes);
      else sock.write(bytes);
    });
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

const get = (id: string, extra = ''): string => `GET /v1/f/${id}?t=${d.token()} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

describe('odd clients on the serving port', () => {
  it.each([SSD, HDD])('a request followed at once by a half-close is answered in full (%s, from disk)', async (id) => {
    const { responses, rest } = parseAll(await exchange(get(id), true));
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(responses[0].body.equals(d.files.get(id)!.data)).toBe(true);
    expect(rest.length).toBe(0);
  });

  it('two pipelined requests and a half-close: both answered, in order, then the connection closes', async () => {
    const { responses } = parseAll(await exchange(get(SSD, 'Range: bytes=0-299999\r\n') + get(HDD), true));
    expect(responses.map((r) => r.status)).toEqual([206, 200]);
    expect(responses[0].body.equals(d.files.get(SSD)!.data.subarray(0, 300_000))).toBe(true);
    expect(responses[1].body.equals(d.files.get(HDD)!.data)).toBe(true);
  });

  it('a malformed request pipelined after a good one: the good answer whole first, then a JSON 400, then close', async () => {
    const { responses, rest } = parseAll(await exchange(get(HDD) + 'NOT A REQUEST\r\n\r\n', false));
    expect(responses.map((r) => r.status)).toEqual([200, 400]);
    expect(responses[0].body.equals(d.files.get(HDD)!.data)).toBe(true);
    expect(JSON.parse(responses[1].body.toString()).error.code).toBe('bad_request');
    expect(responses[1].headers.connection).toBe('close');
    expect(rest.length).toBe(0);
  });

  it('a malformed request alone still gets its 400 at once', async () => {
    const { responses } = parseAll(await exchange('NOT A REQUEST\r\n\r\n', false));
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(JSON.parse(responses[0].body.toString()).error.code).toBe('bad_request');
  });
});
