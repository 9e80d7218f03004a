// The admin/observability listener (separate address, loopback by default). Read-only views are
// open to whoever can reach the address: /metrics (Prometheus scrapes without credentials),
// /v1/health, /v1/status and /v1/snapshot (what the control reporter sends). Everything under /v1/admin/ needs `Authorization: Bearer <adminToken>`
// and is refused outright when no admin token is configured. Not a hot path: plain node:http.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpError } from '../../../protocol/index.ts';

export interface AdminActions {
  metrics(): Promise<{ text: string; contentType: string }>;
  health(): { status: string; reasons: string[] };
  status(): unknown;
  snapshot(): unknown;
  drain(reason: string): void;
  setPopularity(ranks: Record<string, number | null>): void;
  files(): unknown;
  usage(): unknown;
  /** tests only; undefined unless faultInjection is on */
  crashWorker?: (index: number) => boolean;
}

const MAX_BODY = 16 * 1024 * 1024;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, 'payload_too_large', `body over ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_json', 'body is not valid JSON');
  }
}

/** `{ranks: {fileId: rank|null}}` or `[{fileId, rank}]` → ranks record. */
function parseRanks(body: unknown): Record<string, number | null> {
  const list = Array.isArray(body) ? body : undefined;
  if (list) {
    const out: Record<string, number | null> = {};
    for (const e of list) {
      const { fileId, rank } = (e ?? {}) as { fileId?: unknown; rank?: unknown };
      if (typeof fileId !== 'string' || !(rank === null || typeof rank === 'number')) {
        throw new HttpError(400, 'bad_request', 'each entry needs {fileId: string, rank: number|null}');
      }
      out[fileId] = rank;
    }
    return out;
  }
  const ranks = (body as { ranks?: unknown } | null)?.ranks;
  if (typeof ranks !== 'object' || ranks === null || Array.isArray(ranks)) {
    throw new HttpError(400, 'bad_request', 'body must be {"ranks": {"<fileId>": <rank>|null}}');
  }
  for (const [k, v] of Object.entries(ranks)) {
    if (!(v === null || typeof v === 'number')) throw new HttpError(400, 'bad_request', `rank of ${k} must be a number or null`);
  }
  return ranks as Record<string, number | null>;
}

export function createAdminServer(adminToken: string, a: AdminActions): Server {
  const want = adminToken ? digest(adminToken) : undefined;
  const authorised = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization;
    if (!want || !h || !h.startsWith('Bearer ')) return false;
    return timingSafeEqual(digest(h.slice(7).trim()), want);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const m = req.method;
    if (m === 'GET' && path === '/metrics') {
      const { text, contentType } = await a.metrics();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    if (m === 'GET' && path === '/v1/health') {
      const h = a.health();
      return send(res, h.status === 'failing' ? 503 : 200, h);
    }
    if (m === 'GET' && path === '/v1/status') return send(res, 200, a.status());
    if (m === 'GET' && path === '/v1/snapshot') return send(res, 200, a.snapshot());
    if (!path.startsWith('/v1/admin/')) throw new HttpError(404, 'not_found', 'no such route');
    if (!want) throw new HttpError(403, 'admin_disabled', 'no adminToken is configured');
    if (!authorised(req)) throw new HttpError(401, 'unauthenticated', 'admin token required (Authorization: Bearer …)');

    if (m === 'POST' && path === '/v1/admin/drain') {
      a.drain('admin');
      return send(res, 202, { draining: true });
    }
    if ((m === 'POST' || m === 'PUT') && path === '/v1/admin/popularity') {
      const ranks = parseRanks(await readJson(req));
      try {
        a.setPopularity(ranks);
      } catch (e) {
        throw new HttpError(400, 'bad_request', (e as Error).message);
      }
      return send(res, 200, { ok: true, files: Object.keys(ranks).length });
    }
    if (m === 'GET' && path === '/v1/admin/files') return send(res, 200, { files: a.files() });
    if (m === 'GET' && path === '/v1/admin/usage') return send(res, 200, a.usage());
    if (m === 'POST' && path === '/v1/admin/fault/crash-worker' && a.crashWorker) {
      const index = Number(query.get('worker') ?? '0');
      if (!a.crashWorker(index)) throw new HttpError(409, 'no_worker', `worker ${index} is not running`);
      return send(res, 202, { crashing: index });
    }
    throw new HttpError(404, 'not_found', 'no such admin route');
  };

  return createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    route(req, res).catch((e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'internal', (e as Error).message);
      if (!res.headersSent) send(res, err.status, err.body);
      else res.destroy();
    });
  });
}
