// A counting, fault-injecting HTTP proxy to put in front of a fill source (the origin, a peer, an
// IX appliance) in tests and benches. It forwards every request unchanged and records what it
// served: path, fileId, Range, status, body bytes, and which appliance asked (the `sub` of the
// peer token in `Authorization: Bearer`, when there is one). Rules, per fileId, change what the
// client gets:
//
//   corrupt   flip the first body byte of every response (a damaged copy)
//   hold      forward `afterBytes` of the body, then stop until released; `held` resolves when it
//             happens. release() resumes; cut() drops the client connection. To kill a source
//             mid-file: hold, kill the source process, cut (a held response reads nothing more
//             from the upstream, so the proxy cannot see the death by itself).
//   cut       drop the client connection after `afterBytes` of the body
//
// The proxy holds no file data: bodies stream through. Counting is by body bytes, not headers.

import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody } from '../../protocol/index.ts';

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  /** the fileId from /v1/f/<id>, /v1/peer/f/<id> or /v1/t/<token>/f/<id> */
  fileId: string | null;
  range: string | null;
  /** who asked: the peer token's subject (an applianceId), else null */
  from: string | null;
  status: number;
  /** body bytes sent to the client */
  bytes: number;
  /** the exchange ended before the whole body was sent */
  broken: boolean;
  /** the rules that changed this response */
  faults: FaultKind[];
  done: boolean;
}

export type FaultKind = 'corrupt' | 'hold' | 'cut';

export interface FaultRule {
  kind: FaultKind;
  /** which files: one fileId, a predicate, or every file */
  file: string | ((fileId: string) => boolean) | '*';
  /** only requests from this appliance (the peer token's subject) */
  from?: string;
  /** for hold and cut */
  afterBytes?: number;
  /** how many file bodies (200/206 to a GET) it applies to (default: every one) */
  times?: number;
}

export interface Fault {
  rule: FaultRule;
  /** responses it applied to so far */
  hits: number;
  /** resolves when a hold first takes effect, with the request it holds */
  held: Promise<ProxiedRequest>;
  /** let held responses continue */
  release(): void;
  /** drop held client connections */
  cut(): void;
  /** stop applying the rule (held responses stay held until release/cut) */
  remove(): void;
}

export interface FaultProxy {
  url: string;
  target: string;
  log: ProxiedRequest[];
  add(rule: FaultRule): Fault;
  /** body bytes served for requests matching the filter */
  bytes(filter?: (r: ProxiedRequest) => boolean): number;
  requests(filter?: (r: ProxiedRequest) => boolean): ProxiedRequest[];
  close(): Promise<void>;
}

const FILE_RE = /^\/v1\/(?:peer\/f|f|t\/[^/]+\/f)\/([^/?]+)/;

export function fileIdOfPath(path: string): string | null {
  const m = FILE_RE.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The `sub` of a peer token (protocol/src/peer-token.ts), unverified: for attribution only. */
export function peerTokenSubject(authorization: string | undefined): string | null {
  const m = /^Bearer\s+([A-Za-z0-9_-]+)\./.exec(authorization ?? '');
  if (!m) return null;
  try {
    const p = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof p.sub === 'string' ? p.sub : null;
  } catch {
    return null;
  }
}

interface ActiveFault extends Fault {
  matches(fileId: string | null, from: string | null): boolean;
  waiting: Set<{ resume(): void; drop(): void }>;
  onHeld(r: ProxiedRequest): void;
  released: boolean;
}

export async function startFaultProxy(target: string, o: { host?: string; port?: number } = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const log: ProxiedRequest[] = [];
  const faults: ActiveFault[] = [];

  const add = (rule: FaultRule): Fault => {
    let heldResolve!: (r: ProxiedRequest) => void;
    const held = new Promise<ProxiedRequest>((r) => (heldResolve = r));
    let first = true;
    const f: ActiveFault = {
      rule,
      hits: 0,
      held,
      waiting: new Set(),
      released: false,
      matches: (fileId, from) => {
        if (fileId === null) return false;
        if (rule.from !== undefined && rule.from !== from) return false;
        if (rule.times !== undefined && f.hits >= rule.times) return false;
        if (rule.file === '*') return true;
        return typeof rule.file === 'string' ? rule.file === fileId : rule.file(fileId);
      },
      onHeld: (r) => {
        if (first) heldResolve(r);
        first = false;
      },
      release() {
        f.released = true;
        for (const w of f.waiting) w.resume();
        f.waiting.clear();
      },
      cut() {
        for (const w of f.waiting) w.drop();
        f.waiting.clear();
      },
      remove() {
        const i = faults.indexOf(f);
        if (i >= 0) faults.splice(i, 1);
      },
    };
    faults.push(f);
    return f;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const fileId = fileIdOfPath(path);
    const entry: ProxiedRequest = {
      at: Date.now(), method: req.method ?? 'GET', path, fileId, range: (req.headers.range as string | undefined) ?? null,
      from: peerTokenSubject(req.headers.authorization), status: 0, bytes: 0, broken: false, done: false, faults: [],
    };
    log.push(entry);
    const headers = { ...req.headers, host: upstream.host };
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, path, method: req.method, headers, agent }, (ur) => {
      entry.status = ur.statusCode ?? 0;
      res.writeHead(entry.status, ur.headers);
      // rules apply to bodies of files (200/206) only, and count only those they changed
      const applied = entry.status < 300 && entry.method === 'GET' ? faults.filter((f) => f.matches(fileId, entry.from)) : [];
      for (const f of applied) f.hits++;
      entry.faults = applied.map((f) => f.rule.kind);
      pump(ur, res, entry, applied);
    });
    up.on('error', () => {
      if (!res.headersSent) {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errorBody('bad_gateway', 'upstream unreachable')));
        entry.done = true;
      } else {
        entry.broken = true;
        res.destroy();
      }
    });
    req.pipe(up);
    res.on('close', () => {
      if (!res.writableFinished) {
        entry.broken = true;
        up.destroy();
      }
    });
  };

  const pump = (ur: IncomingMessage, res: ServerResponse, entry: ProxiedRequest, applied: ActiveFault[]) => {
    const corrupt = applied.some((f) => f.rule.kind === 'corrupt');
    const hold = applied.find((f) => f.rule.kind === 'hold' && !f.released);
    const cut = applied.find((f) => f.rule.kind === 'cut');
    let stopAt = Math.min(hold?.rule.afterBytes ?? Infinity, cut?.rule.afterBytes ?? Infinity);
    let first = true;
    let stalled = false;
    let dead = false;
    const die = () => {
      if (dead) return;
      dead = true;
      entry.broken = true;
      res.destroy();
      ur.destroy();
    };
    ur.on('error', die);
    ur.on('aborted', die);
    // an upstream that closes before its body ended (killed) takes the client connection with
    // it; watch the socket too, since a paused (held) response reports nothing itself
    const gone = () => {
      if (!ur.complete) die();
    };
    const sock = ur.socket;
    ur.on('close', gone);
    sock.once('close', gone);
    // keep-alive sockets outlive the response: take the listener off when it is over
    ur.once('end', () => sock.off('close', gone));
    ur.once('close', () => sock.off('close', gone));
    const write = (chunk: Buffer) => {
      if (corrupt && first && chunk.length > 0) {
        chunk = Buffer.from(chunk);
        chunk[0] ^= 0xff;
      }
      if (chunk.length > 0) first = false;
      entry.bytes += chunk.length;
      if (!res.write(chunk)) {
        ur.pause();
        res.once('drain', () => {
          if (!stalled) ur.resume();
        });
      }
    };
    ur.on('data', (chunk: Buffer) => {
      if (dead) return;
      const room = stopAt - entry.bytes;
      if (chunk.length <= room) return write(chunk);
      if (room > 0) write(chunk.subarray(0, room));
      const rest = chunk.subarray(Math.max(room, 0));
      if (cut && entry.bytes >= (cut.rule.afterBytes ?? Infinity)) return die();
      // hold: keep what is left of this chunk, stop reading until released
      stalled = true;
      ur.pause();
      const waiter = {
        resume: () => {
          stalled = false;
          stopAt = cut?.rule.afterBytes ?? Infinity;
          if (rest.length > 0) write(rest);
          ur.resume();
        },
        drop: die,
      };
      hold!.waiting.add(waiter);
      hold!.onHeld(entry);
      if (hold!.released) waiter.resume();
    });
    ur.on('end', () => {
      if (dead) return;
      entry.done = true;
      res.end();
    });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const match = (filter?: (r: ProxiedRequest) => boolean) => (filter ? log.filter(filter) : log.slice());
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${addr.port}`,
    target,
    log,
    add,
    bytes: (filter) => match(filter).reduce((a, r) => a + r.bytes, 0),
    requests: match,
    async close() {
      for (const f of faults) f.cut();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}
