// POST /v1/playback taken ahead of Fastify (http/playback-fast-path.ts): which requests it takes,
// what it answers, and that a real control answers the same through it as through Fastify's route.

import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../protocol/index.ts';
import { parseJsonBody, playbackFastPath } from '../src/http/playback-fast-path.ts';
import type { StartAnswer } from '../src/http/playback-fast-path.ts';
import { addAccount, addSite, addTitle, enroll, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** one request by node:http (fetch cannot send a body without a length in every form needed here) */
function send(url: string, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunked?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url + (o.path ?? '/v1/playback'), { method: o.method ?? 'POST', headers: o.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (o.body !== undefined && o.chunked) {
      // no Content-Length: node sends Transfer-Encoding: chunked
      req.write(o.body.slice(0, 5));
      req.end(o.body.slice(5));
    } else {
      if (o.body !== undefined) req.setHeader('content-length', Buffer.byteLength(o.body));
      req.end(o.body);
    }
  });
}

describe('the fast path on its own', () => {
  const calls: unknown[][] = [];
  let fallbacks = 0;
  let url = '';
  const answer: StartAnswer = async (authorization, socketIp, xff, body) => {
    calls.push([authorization, socketIp, xff, body]);
    const b = body as { titleId?: string };
    if (b.titleId === 'refused') throw new HttpError(429, 'stream_limit', 'too many', { devices: ['tv'] });
    if (b.titleId === 'broken') throw new Error('boom');
    return '{"sessionId":"s1"}';
  };
  const fast = playbackFastPath(answer, pino({ level: 'silent' }));
  const server = createServer((req, res) => {
    if (fast(req, res)) return;
    fallbacks++;
    req.resume();
    req.on('end', () => res.writeHead(299).end('fallback'));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const json = { 'content-type': 'application/json' };

  it('takes a plain JSON start and answers 201 with the CORS header', async () => {
    const r = await send(url, { headers: { ...json, authorization: 'Bearer abc', 'x-forwarded-for': '10.0.0.1' }, body: '{"titleId":"t1"}' });
    expect(r).toMatchObject({ status: 201, text: '{"sessionId":"s1"}' });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(calls.at(-1)).toEqual(['Bearer abc', '127.0.0.1', '10.0.0.1', { titleId: 't1' }]);
  });

  it('leaves everything else to the fallback (Fastify)', async () => {
    const before = fallbacks;
    const body = '{"titleId":"t1"}';
    expect((await send(url, { method: 'OPTIONS' })).status).toBe(299);
    expect((await send(url, { path: '/v1/playback?x=1', headers: json, body })).status).toBe(299);
    expect((await send(url, { path: '/v1/playback/abc/heartbeat', method: 'PUT', headers: json, body })).status).toBe(299);
    expect((await send(url, { headers: { 'content-type': 'text/plain' }, body })).status).toBe(299);
    expect((await send(url, { headers: json, body, chunked: true })).status).toBe(299);
    expect((await send(url, { headers: json, body: `{"titleId":"${'x'.repeat(20_000)}"}` })).status).toBe(299);
    expect(fallbacks - before).toBe(6);
  });

  it('refuses bodies as Fastify does, and sends refusals as the app error handler does', async () => {
    const body = (r: Answer) => JSON.parse(r.text);
    const empty = await send(url, { headers: json, body: '' });
    expect([empty.status, body(empty)]).toEqual([400, { error: { code: 'bad_request', message: "Body cannot be empty when content-type is set to 'application/json'" } }]);
    const bad = await send(url, { headers: json, body: '{"titleId":' });
    expect([bad.status, body(bad).error.code]).toEqual([400, 'bad_request']);
    const proto = await send(url, { headers: json, body: '{"a":{"__proto__":{"x":1}}}' });
    expect([proto.status, body(proto).error.message]).toEqual([400, "Body is not valid JSON but content-type is set to 'application/json'"]);
    const limited = await send(url, { headers: json, body: '{"titleId":"refused"}' });
    expect([limited.status, body(limited)]).toEqual([429, { error: { devices: ['tv'], code: 'stream_limit', message: 'too many' } }]);
    expect(limited.headers['access-control-allow-origin']).toBe('*');
    const broken = await send(url, { headers: json, body: '{"titleId":"broken"}' });
    expect([broken.status, body(broken)]).toEqual([500, { error: { code: 'internal', message: 'internal error' } }]);
  });

  it('parses as secure-json-parse does: a "__proto__" key only refused where it is a key', () => {
    expect(parseJsonBody('{"device":"\\"__proto__\\": x"}')).toEqual({ device: '"__proto__": x' });
    expect(() => parseJsonBody('{"\\u005f_proto__":1}')).toThrow(HttpError);
  });
});

describe('a control answers the same through the fast path and through Fastify', () => {
  let ctx: Ctx;
  let viewer: { token: string; profileId: string };
  beforeAll(async () => {
    ctx = await startTestControl();
    await addSite(ctx, 's1');
    const box = await enroll(ctx, 's1', 'box1');
    await sendReport(ctx, box, { files: ['t1.v1', 't1.a1'], routes: [{ prefix: '127.0.0.0/8', asPathLength: 1 }, { prefix: '::1/128', asPathLength: 1 }] });
    await addTitle(ctx, titleRecord('t1'));
    viewer = await addAccount(ctx, 'premium');
  });
  afterAll(() => ctx.close());

  const both = async (headers: Record<string, string>, body: string) => {
    const fast = await send(ctx.url, { headers, body });
    const fastify = await send(ctx.url, { headers, body, chunked: true });
    return { fast, fastify };
  };

  it('a start: 201 with the same answer but for the session', async () => {
    const { fast, fastify } = await both(
      { 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` },
      JSON.stringify({ titleId: 't1', profileId: viewer.profileId, device: 'tv' }),
    );
    expect([fast.status, fastify.status]).toEqual([201, 201]);
    for (const h of ['content-type', 'access-control-allow-origin']) expect(fast.headers[h]).toBe(fastify.headers[h]);
    const a = JSON.parse(fast.text), b = JSON.parse(fastify.text);
    expect(a.sessionId).not.toBe(b.sessionId);
    const unSession = (t: string, sid: string) => t.replaceAll(sid, 'SID').replace(/\/v1\/t\/[^/]+\/f\//g, '/v1/t/TOKEN/f/');
    expect(unSession(fast.text, a.sessionId)).toBe(unSession(fastify.text, b.sessionId));
  });

  it('refusals: the same status and body', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'content-type': 'application/json' }, '{"titleId":"t1"}'],
      [{ 'content-type': 'application/json', authorization: 'Bearer nope' }, '{"titleId":"t1"}'],
      [{ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }, '{"titleId":"t1"}'],
      [{ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }, JSON.stringify({ titleId: 'nope', profileId: viewer.profileId, device: 'tv' })],
      [{ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }, '{"titleId":'],
      [{ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }, '{"__proto__":{"x":1}}'],
    ];
    for (const [headers, body] of cases) {
      const { fast, fastify } = await both(headers, body);
      expect(fast.status).toBeGreaterThanOrEqual(400);
      expect([fast.status, fast.text]).toEqual([fastify.status, fastify.text]);
      expect(fast.headers['access-control-allow-origin']).toBe('*');
    }
  });
});
