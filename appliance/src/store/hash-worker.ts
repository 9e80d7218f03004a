// The thread that hashes staged puts' bytes (stage-writer.ts): sha256 was the largest single cost
// of a fill on the daemon's main thread (about 0.7 CPU-s per GiB with SHA-NI). Bytes the socket read
// into shared slabs (shared-slabs.ts) are not posted: a message names the range. Messages are
// handled in order, so a put's hash sees its bytes in the order they were appended.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-messages.ts';

const memory = new Uint8Array(workerData.memory as SharedArrayBuffer);
/** [busy ms, CPU µs] of this thread's hashing, read by the main thread (stage-writer.ts: hashThreadTime) */
const time = new Float64Array(workerData.time as SharedArrayBuffer);
const hashes = new Map<number, Hash>();
const REHASH_BLOCK = 1 << 20;

/** Hash the first `length` bytes of the file; fewer readable bytes is an error. */
function hashPrefix(path: string, length: number): Hash {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(REHASH_BLOCK, Math.max(1, length)));
    let off = 0;
    while (off < length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, length - off), off);
      if (n === 0) throw new Error(`partial shorter than ${length} bytes`);
      hash.update(buf.subarray(0, n));
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash;
}

function handle(m: HashRequest): HashReply {
  switch (m.op) {
    case 'start':
      hashes.set(m.id, m.prefix > 0 ? hashPrefix(m.path, m.prefix) : createHash('sha256'));
      return { seq: m.seq };
    case 'update': {
      const h = hashes.get(m.id);
      if (h === undefined) throw new Error(`no hash ${m.id}`);
      for (const p of m.parts) h.update(p instanceof ArrayBuffer ? new Uint8Array(p) : memory.subarray(p[0], p[0] + p[1]));
      return { seq: m.seq };
    }
    case 'digest':
      if (!hashes.has(m.id)) throw new Error(`no hash ${m.id}`);
      return { seq: m.seq, digest: hashes.get(m.id)!.copy().digest('hex') };
    case 'end':
      hashes.delete(m.id);
      return { seq: m.seq };
  }
}

parentPort!.on('message', (m: HashRequest) => {
  let reply: HashReply;
  // what the hashing itself takes, against how long the main thread waits for it (the rest is the
  // queue and, on a loaded box, this thread waiting for a core): one clock pair per message
  const t0 = performance.now();
  const c0 = process.threadCpuUsage();
  try {
    reply = handle(m);
  } catch (err) {
    reply = { seq: m.seq, error: (err as Error).message };
  }
  const c1 = process.threadCpuUsage();
  time[0] += performance.now() - t0;
  time[1] += c1.user - c0.user + c1.system - c0.system;
  parentPort!.postMessage(reply);
});
