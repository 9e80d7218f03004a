// The serving port's request-head parser (h1/parse-head.ts): what it accepts, each refusal it
// must make (stricter than node's llhttp), and the same answer whatever way the bytes are split.
import { describe, expect, it } from 'vitest';
import { parseHead, type ParseResult } from '../../src/http/h1/parse-head.ts';

const MAX = 8192;
const parse = (s: string, max = MAX): ParseResult => parseHead(Buffer.from(s, 'latin1'), max);

function ok(s: string) {
  const r = parse(s);
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}

const GOOD = 'GET /v1/f/t1.v1?t=abc HTTP/1.1\r\nHost: box.example\r\nRange: bytes=0-2047\r\nUser-Agent: wrk\r\n\r\n';

describe('request heads the parser accepts', () => {
  it('a plain GET: method, target, version, lower-case headers, keep-alive, bytes consumed', () => {
    const r = ok(`${GOOD}GET /next`);
    expect(r.head).toMatchObject({ method: 'GET', url: '/v1/f/t1.v1?t=abc', httpVersion: '1.1', keepAlive: true });
    expect(r.head.headers.range).toBe('bytes=0-2047');
    expect(r.head.headers['user-agent']).toBe('wrk');
    expect(r.consumed).toBe(GOOD.length);
  });

  it('optional whitespace around a value is trimmed; tabs inside and obs-text are kept', () => {
    const r = ok('GET / HTTP/1.1\r\nHost:box\r\nX-A: \t a\tb \t\r\nX-B: caf\xe9\r\n\r\n');
    expect(r.head.headers['x-a']).toBe('a\tb');
    expect(r.head.headers['x-b']).toBe('caf\xe9');
  });

  it('header names in any case are lower-cased; "constructor" and "__proto__" are plain headers', () => {
    const r = ok('GET / HTTP/1.1\r\nHOST: h\r\nrAnGe: bytes=0-1\r\nX-Custom-Name: v\r\nconstructor: c\r\n__proto__: p\r\n\r\n');
    expect(r.head.headers.host).toBe('h');
    expect(r.head.headers.range).toBe('bytes=0-1');
    expect(r.head.headers['x-custom-name']).toBe('v');
    expect(r.head.headers.constructor).toBe('c');
    expect(Object.getOwnPropertyDescriptor(r.head.headers, '__proto__')?.value).toBe('p');
    expect(ok(GOOD).head.headers.constructor).toBeUndefined();
  });

  it('repeats of a list header are joined', () => {
    expect(ok('GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\n\r\n').head.headers.accept).toBe('a, b');
  });

  it('Connection: close, and HTTP/1.0 keep-alive only when asked for', () => {
    expect(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n').head.keepAlive).toBe(false);
    expect(ok('GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n').head.keepAlive).toBe(false);
    expect(ok('GET / HTTP/1.0\r\n\r\n').head).toMatchObject({ httpVersion: '1.0', keepAlive: false });
    expect(ok('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').head.keepAlive).toBe(true);
  });

  it('an absolute-form target naming our Host is reduced to its path', () => {
    expect(ok('GET http://Box.example/v1/f/a?t=1 HTTP/1.1\r\nHost: box.example\r\n\r\n').head.url).toBe('/v1/f/a?t=1');
    expect(ok('GET https://box.example:8443 HTTP/1.1\r\nHost: box.example:8443\r\n\r\n').head.url).toBe('/');
    expect(ok('GET http://box.example?x=1 HTTP/1.1\r\nHost: box.example\r\n\r\n').head.url).toBe('/?x=1');
  });

  it('OPTIONS * ; Content-Length: 0 ; a leading empty line', () => {
    expect(ok('OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n').head.url).toBe('*');
    expect(ok('GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n').head.method).toBe('GET');
    expect(ok(`\r\n${GOOD}`).consumed).toBe(GOOD.length + 2);
  });

  it('a head not yet ended is incomplete, not an error', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: h\r\n').kind).toBe('incomplete');
    expect(parse('').kind).toBe('incomplete');
  });
});

const refusals: Array<[string, string, number, RegExp]> = [
  ['obs-fold (a continuation line)', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n', 400, /obs-fold/],
  ['obs-fold with a tab', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n', 400, /obs-fold/],
  ['a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n', 400, /bare CR/],
  ['a bare LF ending a header line', 'GET / HTTP/1.1\r\nHost: h\nX-A: a\r\n\r\n', 400, /bare CR or LF/],
  ['a bare CR in the request line', 'GET /\r HTTP/1.1\r\nHost: h\r\n\r\n', 400, /bare CR/],
  ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n', 400, /malformed header/],
  ['a second request line', 'GET / HTTP/1.1\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n', 400, /malformed header/],
  ['garbage instead of a request line', 'NOT A REQUEST\r\n\r\n', 400, /request line/],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 400, /request line/],
  ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', 400, /request line/],
  ['a lower-case protocol name', 'GET / http/1.1\r\nHost: h\r\n\r\n', 400, /request line/],
  ['HTTP/0.9 style (no version)', 'GET /\r\n\r\n', 400, /request line/],
  ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 400, /malformed header/],
  ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: h\r\nX-A\r\n\r\n', 400, /malformed header/],
  ['an empty header name', 'GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n', 400, /malformed header/],
  ['a duplicate Content-Length', 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', 400, /more than one content-length/],
  ['a Content-Length list', 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n', 400, /invalid Content-Length/],
  ['a signed Content-Length', 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +0\r\n\r\n', 400, /invalid Content-Length/],
  ['a body on GET', 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello', 400, /GET request has no body/],
  ['a body on HEAD', 'HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx', 400, /HEAD request has no body/],
  ['a body on any method', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx', 400, /no[t]? .*bodies|bodies are not accepted/],
  ['Transfer-Encoding on GET', 'GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, /Transfer-Encoding/],
  ['Transfer-Encoding beside Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /Transfer-Encoding/],
  ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: a\r\n\r\n', 400, /Host/],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /more than one host/],
  ['two Range headers', 'GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=5-9\r\n\r\n', 400, /more than one range/],
  ['two Authorization headers', 'GET / HTTP/1.1\r\nHost: a\r\nAuthorization: A\r\nAuthorization: B\r\n\r\n', 400, /more than one authorization/],
  ['absolute-form naming another host', 'GET http://evil.example/v1/f/a HTTP/1.1\r\nHost: box.example\r\n\r\n', 400, /does not match the Host/],
  ['absolute-form with userinfo', 'GET http://u@box.example/ HTTP/1.1\r\nHost: box.example\r\n\r\n', 400, /absolute path/],
  ['absolute-form of another scheme', 'GET ftp://box.example/ HTTP/1.1\r\nHost: box.example\r\n\r\n', 400, /absolute path/],
  ['authority-form (CONNECT)', 'CONNECT box.example:443 HTTP/1.1\r\nHost: box.example:443\r\n\r\n', 400, /absolute path/],
  ['asterisk-form on GET', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', 400, /OPTIONS only/],
  ['a relative target', 'GET v1/f/a HTTP/1.1\r\nHost: h\r\n\r\n', 400, /absolute path/],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505, /HTTP\/2\.0 is not supported/],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', 505, /not supported/],
  ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505, /not supported/],
];

describe('request heads the parser refuses', () => {
  it.each(refusals)('%s', (_what, text, status, message) => {
    const r = parse(text);
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
    expect(r.code).toBe(status === 505 ? 'version_not_supported' : 'bad_request');
  });

  it('a head over maxHeaderSize is a 431, complete or not', () => {
    const big = `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(300)}\r\n\r\n`;
    expect(parse(big, 256)).toMatchObject({ kind: 'error', status: 431, code: 'headers_too_large' });
    expect(parse(big.slice(0, 280), 256)).toMatchObject({ kind: 'error', status: 431 });
    expect(parse(big, 1024).kind).toBe('ok');
  });
});

/** Feed `text` one prefix at a time, as a connection's buffer grows: the first non-incomplete answer. */
function feed(text: string, cut: number): ParseResult {
  const buf = Buffer.from(text, 'latin1');
  const first = parseHead(buf.subarray(0, cut), MAX);
  if (first.kind !== 'incomplete') return first;
  return parseHead(buf, MAX);
}

describe('requests split at every byte boundary', () => {
  const cases = [GOOD, 'HEAD /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', `\r\n${GOOD}`, ...refusals.map((r) => r[1])];
  it.each(cases.map((c) => [JSON.stringify(c).slice(0, 60), c]))('%s', (_name, text) => {
    const whole = parseHead(Buffer.from(text, 'latin1'), MAX);
    for (let cut = 0; cut <= text.length; cut++) {
      const r = feed(text, cut);
      // a prefix never decides differently from the whole request: same verdict, same head
      expect(r, `cut at ${cut}`).toEqual(whole);
    }
  });

  it('two pipelined requests split anywhere: both parsed, in order, with the right lengths', () => {
    const second = 'GET /v1/health HTTP/1.1\r\nHost: h\r\n\r\n';
    const text = GOOD + second;
    for (let cut = 0; cut <= text.length; cut++) {
      let buf = Buffer.from(text.slice(0, cut), 'latin1');
      let rest = Buffer.from(text.slice(cut), 'latin1');
      const urls: string[] = [];
      for (;;) {
        const r = parseHead(buf, MAX);
        if (r.kind === 'ok') {
          urls.push(r.head.url);
          buf = buf.subarray(r.consumed);
          continue;
        }
        expect(r.kind).toBe('incomplete');
        if (rest.length === 0) break;
        buf = Buffer.concat([buf, rest]);
        rest = Buffer.alloc(0);
      }
      expect(urls, `cut at ${cut}`).toEqual(['/v1/f/t1.v1?t=abc', '/v1/health']);
      expect(buf.length).toBe(0);
    }
  });
});
