// A burst of hostile clients against one appliance, to see what it does to memory: slow header
// blocks that never end (slowloris), bytes that are not HTTP, requests the appliance must refuse
// (no or bad token, oversized headers, hundreds of ranges, unknown files, traversal, broken
// Range), and whole-file downloads dropped after the first chunk. A refusal is the right answer;
// a 5xx or a dead process is an error.

import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileUrl, signToken } from '../../protocol/index.ts';
import type { ClusterAppliance, ClusterSecrets } from '../../scripts/lib/cluster.ts';
import type { ErrorLog } from './errors.ts';
import type { SourceFile } from './ranges.ts';

export interface HostileCounts { slowloris: number; garbage: number; refused: number; dropped: number }

export async function hostileBurst(o: {
  target: ClusterAppliance; secrets: ClusterSecrets; file: { fileId: string; src: SourceFile };
  seconds: number; errors: ErrorLog;
  /** connections held open by slow header blocks at any time */
  slowloris: number;
}): Promise<HostileCounts> {
  const counts: HostileCounts = { slowloris: 0, garbage: 0, refused: 0, dropped: 0 };
  const [host, port] = [o.target.config.listen.split(':')[0], Number(o.target.config.listen.split(':')[1])];
  const until = performance.now() + o.seconds * 1000;
  const running = () => performance.now() < until;
  const sockets = new Set<Socket>();
  const open = () => {
    const s = connect({ host, port });
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    return s;
  };
  const closed = (s: Socket) => new Promise<void>((r) => { if (s.destroyed) r(); else s.once('close', () => r()); });

  // slowloris: a header line every 2 s, never the blank line; the server's header timeout ends them
  const slow = async () => {
    while (running()) {
      const s = open();
      s.write(`GET /v1/f/${o.file.fileId} HTTP/1.1\r\nHost: ${host}\r\n`);
      s.resume(); // read the 408, so the server's close reaches 'close' here
      const drip = setInterval(() => s.write(`X-${randomBytes(4).toString('hex')}: 1\r\n`), 2000);
      await Promise.race([closed(s), new Promise((r) => setTimeout(r, Math.max(0, until - performance.now())))]);
      clearInterval(drip);
      s.destroy();
      counts.slowloris++;
    }
  };
  const garbage = async () => {
    while (running()) {
      const s = open();
      s.write(Buffer.concat([randomBytes(2048), Buffer.from('\r\n\r\n')]));
      s.resume();
      await Promise.race([closed(s), new Promise((r) => setTimeout(r, 5000))]);
      s.destroy();
      counts.garbage++;
    }
  };
  const s = o.secrets;
  const good = signToken({ kid: s.tokenKid, secret: s.tokenSecret, exp: Math.floor(Date.now() / 1000) + 3600, title: o.file.src.titleId });
  const wrong = signToken({ kid: s.tokenKid, secret: 'not-the-secret-at-all-0123456789', exp: Math.floor(Date.now() / 1000) + 3600, title: o.file.src.titleId });
  const manyRanges = Array.from({ length: 400 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
  const refusals: Array<[string, Record<string, string>]> = [
    [fileUrl('', o.file.fileId), {}],
    [fileUrl('', o.file.fileId, wrong), {}],
    [fileUrl('', o.file.fileId, good), { 'x-big': 'a'.repeat(16 * 1024) }],
    [fileUrl('', o.file.fileId, good), { range: `bytes=${manyRanges}` }],
    [fileUrl('', o.file.fileId, good), { range: 'bytes=abc-def' }],
    [fileUrl('', `${o.file.src.titleId}.nosuchfile`, good), {}],
    ['/v1/f/..%2f..%2f..%2fetc%2fpasswd', {}],
    [`/v1/f/${'x'.repeat(9000)}`, {}],
  ];
  const refuse = async (i: number) => {
    for (let k = i; running(); k++) {
      const [path, headers] = refusals[k % refusals.length];
      try {
        const res = await fetch(o.target.origin + path, { headers, signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status >= 500) o.errors.add(o.target.name, `hostile ${path.slice(0, 60)}: ${res.status}`);
        else counts.refused++;
      } catch (e) {
        // the appliance may close a connection it refuses (431 on a header block too large for node)
        if (!/fetch failed|other side closed|socket/i.test((e as Error).message)) throw e;
        counts.refused++;
      }
    }
  };
  const drop = async () => {
    while (running()) {
      const ac = new AbortController();
      try {
        const res = await fetch(o.target.origin + fileUrl('', o.file.fileId, good), { signal: ac.signal });
        const reader = res.body!.getReader();
        await reader.read();
        ac.abort();
      } catch (e) {
        if ((e as Error).name !== 'AbortError') throw e;
      }
      counts.dropped++;
    }
  };
  await Promise.all([
    ...Array.from({ length: o.slowloris }, slow),
    ...Array.from({ length: 16 }, garbage),
    ...Array.from({ length: 32 }, (_, i) => refuse(i)),
    ...Array.from({ length: 8 }, drop),
  ]);
  for (const x of sockets) x.destroy();
  return counts;
}
