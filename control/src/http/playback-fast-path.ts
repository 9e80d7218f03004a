// POST /v1/playback taken on node's HTTP server ahead of Fastify's request pipeline. A start's
// own work is what it is; Fastify's per-request machinery around it (hooks, content-type
// parser, per-request child logger, reply object, onSend chain, body length, several promise
// hops) was ~10 % of the event loop's CPU per start in a perf profile of the steering bench's
// playback load (Fastify's functions innermost). Only the plain case is taken: POST to exactly /v1/playback, a JSON content type,
// a Content-Length of at most MAX_BODY, no Expect; anything else (OPTIONS preflights, chunked
// bodies, other types, app.inject in tests) goes to Fastify's route, which runs the same
// `answer`. What a client sees is the same: status, JSON body (errors as the app's error
// handler writes them, Fastify's refusals of an empty or invalid JSON body included), the
// CORS header cors.ts sets, and a "request completed" log line when info is enabled.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorBody, HttpError } from '../../../protocol/index.ts';

/** A start's 201 answer (JSON text) from the request's parts; refusals throw HttpError. */
export type StartAnswer = (authorization: string | undefined, socketIp: string | undefined, xff: string | string[] | undefined, body: unknown) => Promise<string>;

const PATH = '/v1/playback';
/** a start's body is three short strings; larger ones go through Fastify and its limit */
export const MAX_BODY = 16 * 1024;
const JSON_TYPE_RE = /^application\/json\s*(?:;\s*charset=utf-8\s*)?$/i;
// Fastify's messages for the two ways it refuses a JSON body
const EMPTY_JSON = "Body cannot be empty when content-type is set to 'application/json'";
const INVALID_JSON = "Body is not valid JSON but content-type is set to 'application/json'";

// Fastify's JSON parser (secure-json-parse, onProtoPoisoning 'error') refuses a body with a
// "__proto__" key at any depth; its quick test of the text, then the same scan of the value.
const PROTO_KEY_RE = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
function hasProtoKey(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Object.hasOwn(v, '__proto__')) return true;
  for (const x of Object.values(v)) if (hasProtoKey(x)) return true;
  return false;
}

/** the body as Fastify's JSON parser gives it, or the HttpError its refusal becomes */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new HttpError(400, 'bad_request', EMPTY_JSON);
  let body: unknown;
  try { body = JSON.parse(text); } catch { throw new HttpError(400, 'bad_request', INVALID_JSON); }
  if (PROTO_KEY_RE.test(text) && hasProtoKey(body)) throw new HttpError(400, 'bad_request', INVALID_JSON);
  return body;
}

/** true when the request was taken (and will be answered) here */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function playbackFastPath(answer: StartAnswer, log: Logger): FastPath {
  const send = (req: IncomingMessage, res: ServerResponse, status: number, json: string, t0: number) => {
    res.writeHead(status, {
      'access-control-allow-origin': '*',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
    });
    res.end(json);
    if (log.isLevelEnabled('info')) {
      log.info({
        req: { method: req.method, url: req.url, host: req.headers.host, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort },
        res: { statusCode: status }, responseTime: performance.now() - t0,
      }, 'request completed');
    }
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, err: unknown, t0: number) => {
    if (err instanceof HttpError) {
      send(req, res, err.status, JSON.stringify(err.body), t0);
      return;
    }
    log.error({ err }, 'request failed');
    send(req, res, 500, JSON.stringify(errorBody('internal', 'internal error')), t0);
  };

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const h = req.headers;
    const type = h['content-type'];
    const length = h['content-length'];
    if (type === undefined || !JSON_TYPE_RE.test(type) || length === undefined || h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
    const bytes = Number(length);
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_BODY) return false;
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = parseJsonBody(text);
      } catch (e) {
        refuse(req, res, e, t0);
        return;
      }
      answer(h.authorization, req.socket.remoteAddress, h['x-forwarded-for'], body).then(
        (json) => send(req, res, 201, json, t0),
        (e: unknown) => refuse(req, res, e, t0),
      );
    });
    return true;
  };
}
