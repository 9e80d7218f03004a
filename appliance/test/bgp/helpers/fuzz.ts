// Fuzzing the speaker over a real socket: random valid UPDATEs, mutated ones, random bodies
// and broken headers, sent by a scripted peer to a speaker running in a child process. Every
// message's expected outcome is predicted first — header rules restated here, the UPDATE decoder
// run in this process — and the speaker's NOTIFICATION (or silence) must match it exactly.

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { formatPrefix, type Family } from '../../../../protocol/index.ts';
import { encodeUpdate } from '../../../src/bgp/update-encoder.ts';
import { decodeUpdate } from '../../../src/bgp/update-message.ts';
import { BgpError } from '../../../src/bgp/wire.ts';
import { KEEPALIVE, msg, rawOpen, RawPeer } from './raw-peer.ts';
import { loopbackPair } from './routers.ts';
import { seededRandom as rng } from '../../../../protocol/index.ts';

export interface FuzzResult {
  seed: number;
  messages: number;
  valid: number;
  mutated: number;
  random: number;
  header: number;
  notificationsExpected: number;
  notificationsMatched: number;
  byCode: Record<string, number>;
  sessions: number;
  seconds: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  /** routes the speaker still holds once every fuzz session has ended (its RIB must be empty) */
  prefixesAfter: number;
  childAlive: boolean;
  /** UPDATEs predicted to be processed without a reset, and how many the speaker counted */
  updatesExpected: number;
  updatesProcessed: number;
  /** of those, UPDATEs RFC 7606 turned into withdrawals (session kept) */
  treatedAsWithdraw: number;
  mismatches: string[];
}


type Expect = { code: number; subcode: number } | 'close' | null;

const MIN: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

/** What the speaker must do with this complete message in Established. */
export function predict(m: Buffer): Expect {
  for (let i = 0; i < 16; i++) if (m[i] !== 0xff) return { code: 1, subcode: 1 };
  const len = m.readUInt16BE(16);
  const type = m[18];
  if (len < 19 || len > 4096) return { code: 1, subcode: 2 };
  if (!(type in MIN)) return { code: 1, subcode: 3 };
  if (len < MIN[type] || (type === 4 && len !== 19) || (type === 5 && len !== 23)) return { code: 1, subcode: 2 };
  if (type === 1) return { code: 5, subcode: 3 };
  if (type === 3) return 'close';
  if (type !== 2) return null;
  try {
    decodeUpdate(m.subarray(19), { as4: true, families: ['ipv4', 'ipv6'], ibgp: false });
    return null;
  } catch (e) {
    if (e instanceof BgpError) return { code: e.code, subcode: e.subcode };
    return { code: 6, subcode: 8 }; // the speaker's answer to its own bug: the run reports it as a mismatch
  }
}

function randomPrefix(r: () => number, family: Family): string {
  const width = family === 4 ? 32 : 128;
  const length = family === 4 ? 8 + Math.floor(r() * 25) : 16 + Math.floor(r() * 49);
  let bits = 0n;
  for (let i = 0; i < width / 16; i++) bits = (bits << 16n) | BigInt(Math.floor(r() * 65536));
  if (family === 4) bits = (bits & 0x00ffffffn) | (BigInt(20 + Math.floor(r() * 180)) << 24n);
  else bits = (bits & ((1n << 112n) - 1n)) | (0x2a00n << 112n);
  const mask = ((1n << BigInt(length)) - 1n) << BigInt(width - length);
  return formatPrefix({ family, bits: bits & mask, length });
}

function validUpdate(r: () => number): Buffer {
  const n = (k: number) => Math.floor(r() * k);
  const list = (k: number, fam: Family) => Array.from({ length: n(k) }, () => randomPrefix(r, fam));
  return encodeUpdate({
    announced: [...list(12, 4), ...list(6, 6)], withdrawn: [...list(6, 4), ...list(4, 6)],
    origin: n(3) as 0 | 1 | 2, asPath: Array.from({ length: n(8) }, () => 1 + n(4294967294)),
    med: r() < 0.5 ? n(1000) : undefined, communities: r() < 0.5 ? [[n(65536), n(65536)]] : undefined,
    largeCommunities: r() < 0.3 ? [[n(1e9), n(1e9), n(1e9)]] : undefined,
    mpFirst: r() < 0.5, extendedLength: r() < 0.3,
  });
}

function mutate(r: () => number, m: Buffer): Buffer {
  let body = Buffer.from(m.subarray(19));
  const rounds = 1 + Math.floor(r() * 4);
  for (let i = 0; i < rounds && body.length > 0; i++) {
    const at = Math.floor(r() * body.length);
    const op = r();
    if (op < 0.5) body[at] = Math.floor(r() * 256);
    else if (op < 0.65) body[at] ^= 1 << Math.floor(r() * 8);
    else if (op < 0.8) body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
    else if (op < 0.9) body = Buffer.concat([body.subarray(0, at), Buffer.from([Math.floor(r() * 256)]), body.subarray(at)]);
    else body = body.subarray(0, at);
  }
  return msg(2, body);
}

function randomMessage(r: () => number): Buffer {
  const types = [1, 2, 2, 2, 2, 3, 4, 5, 6 + Math.floor(r() * 250)];
  const body = Buffer.alloc(Math.floor(r() * 120));
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(r() * 256);
  return msg(types[Math.floor(r() * types.length)], body);
}

function brokenHeader(r: () => number): Buffer {
  const m = Buffer.from(KEEPALIVE);
  const k = r();
  if (k < 0.33) m[Math.floor(r() * 16)] = Math.floor(r() * 255);
  else if (k < 0.66) m.writeUInt16BE(r() < 0.5 ? Math.floor(r() * 19) : 4097 + Math.floor(r() * 60000), 16);
  else m[18] = 6 + Math.floor(r() * 250);
  return m;
}

export async function runFuzz(o: { messages: number; seconds: number; seed?: number }): Promise<FuzzResult> {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const r = rng(seed);
  const [peerAddr, ourAddr] = loopbackPair();
  const settings = {
    localAsn: 64512, routerId: '10.255.0.6', listenAddress: ourAddr, listenPort: 0,
    neighbors: [{ address: peerAddr, peerAsn: 65001, passive: true, holdTime: 90, staleTime: 0 }],
  };
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'speaker-process.ts'), [JSON.stringify(settings)], {
    execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const ask = <T>(cmd: string) => new Promise<T>((res, rej) => {
    if (exited) { rej(new Error('speaker process is gone')); return; }
    child.once('message', (m) => res(m as T));
    child.send({ cmd });
  });
  const ready = await new Promise<{ port: number }>((res) => child.once('message', (m) => res(m as { port: number })));
  type Status = { state: string; heapUsed: number; prefixes: number; stats: { updates: number; treatedAsWithdraw: number } };
  const res: FuzzResult = {
    seed, messages: 0, valid: 0, mutated: 0, random: 0, header: 0, notificationsExpected: 0, notificationsMatched: 0,
    byCode: {}, updatesExpected: 0, updatesProcessed: 0, treatedAsWithdraw: 0, sessions: 0, seconds: 0, heapBeforeMb: 0, heapAfterMb: 0, prefixesAfter: -1, childAlive: false, mismatches: [],
  };
  const waitIdle = async (cmd = 'status') => {
    for (let i = 0; i < 500; i++) {
      const s = await ask<Status>(cmd);
      if (s.state === 'Active') return s;
      await new Promise((x) => setTimeout(x, 10));
    }
    throw new Error('speaker did not return to Active');
  };
  const t0 = Date.now();
  let peer: RawPeer | null = null;
  try {
    // Warm up (JIT, buffers), then take the baseline heap with an empty RIB.
    for (let pass = 0; pass < 2; pass++) {
      await waitIdle();
      const p = await RawPeer.connect(ourAddr, ready.port, peerAddr);
      await p.establish(rawOpen({ asn: 65001 }));
      for (let i = 0; i < 300; i++) p.send(validUpdate(r));
      p.send(KEEPALIVE);
      await new Promise((x) => setTimeout(x, 200));
      p.close();
    }
    const base = await waitIdle('heap');
    res.heapBeforeMb = base.heapUsed / 1e6;
    while (res.messages < o.messages && Date.now() - t0 < o.seconds * 1000) {
      if (!peer) {
        // The speaker is back in Active as soon as it has sent its NOTIFICATION, so no need to ask.
        peer = await RawPeer.connect(ourAddr, ready.port, peerAddr);
        await peer.establish(rawOpen({ asn: 65001 }));
        res.sessions++;
      }
      // Pipeline messages until one is predicted to end the session.
      const batch: Buffer[] = [];
      let expect: Expect = null;
      while (batch.length < 200 && res.messages < o.messages) {
        const k = r();
        let m: Buffer;
        if (k < 0.55) { m = validUpdate(r); res.valid++; }
        else if (k < 0.88) { m = mutate(r, validUpdate(r)); res.mutated++; }
        else if (k < 0.97) { m = randomMessage(r); res.random++; }
        else { m = brokenHeader(r); res.header++; }
        batch.push(m);
        res.messages++;
        expect = predict(m);
        if (expect) break;
        if (m[18] === 2) res.updatesExpected++;
      }
      peer.send(Buffer.concat(batch));
      if (expect === null) continue;
      if (expect === 'close') {
        await peer.waitClosed();
        await waitIdle();
        if (peer.replies.some((x) => x.type === 3)) res.mismatches.push(`notification after our NOTIFICATION (seed ${seed}, msg ${res.messages})`);
      } else {
        res.notificationsExpected++;
        const got = await peer.notification(10000);
        const key = `${expect.code}/${expect.subcode}`;
        if (got && got.code === expect.code && got.subcode === expect.subcode) {
          res.notificationsMatched++;
          res.byCode[key] = (res.byCode[key] ?? 0) + 1;
        } else if (res.mismatches.length < 20) {
          res.mismatches.push(`message ${res.messages}: expected ${key}, got ${got ? `${got.code}/${got.subcode}` : 'close'}: ${batch.at(-1)!.toString('hex').slice(0, 200)}`);
        }
      }
      peer.close();
      peer = null;
      if (process.env.BGP_FUZZ_DEBUG) {
        const st = await ask<Status>('status');
        if (st.stats.updates - base.stats.updates !== res.updatesExpected) {
          console.log('DIVERGE', st.stats.updates - base.stats.updates, res.updatesExpected, batch.map((b) => `${b[18]}:${String(predict(b) && JSON.stringify(predict(b)))}`).join(' '));
          console.log(batch.at(-1)!.toString('hex'));
          throw new Error('diverged');
        }
      }
    }
    peer?.send(KEEPALIVE);
    peer?.close();
    peer = null;
    // Routes of the last session go stale when it drops and leave on a 0 s stale timer: let it run.
    for (let i = 0; i < 100 && (await waitIdle()).prefixes > 0; i++) await new Promise((x) => setTimeout(x, 10));
    const end = await waitIdle('heap');
    res.heapAfterMb = end.heapUsed / 1e6;
    res.prefixesAfter = end.prefixes;
    res.updatesProcessed = end.stats.updates - base.stats.updates;
    res.treatedAsWithdraw = end.stats.treatedAsWithdraw - base.stats.treatedAsWithdraw;
    res.childAlive = !exited;
  } finally {
    peer?.close();
    res.seconds = (Date.now() - t0) / 1000;
    if (!exited) {
      child.send({ cmd: 'stop' });
      await new Promise<void>((x) => { const t = setTimeout(() => { child.kill('SIGKILL'); x(); }, 3000); child.once('exit', () => { clearTimeout(t); x(); }); });
    }
  }
  return res;
}
