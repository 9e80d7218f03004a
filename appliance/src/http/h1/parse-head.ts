// The request head of the serving port's HTTP/1.1 layer, parsed strictly (RFC 9112). The port
// serves GET/HEAD of files, so it accepts less than node's llhttp does, never more: exactly one
// request line then header lines, each ended by CRLF; no obs-fold, no bare CR or LF, no control
// characters, no whitespace before a colon; HTTP/1.0 or 1.1 only (other versions 505); one Host
// (required in 1.1) that matches an absolute-form target; at most one Content-Length and no
// Transfer-Encoding at all — the port takes no request bodies, so any body is refused rather than
// framed, which leaves no room for request smuggling.

import type { ErrorCode } from '../../../../protocol/index.ts';

export interface RequestHead {
  method: string;
  /** origin-form ("/path?query"), or "*" for OPTIONS; an absolute-form target is reduced to this */
  url: string;
  httpVersion: '1.0' | '1.1';
  /** lower-case names; repeats of list headers joined with ", " */
  headers: Record<string, string | undefined>;
  /** the client allows the connection to stay open after this request */
  keepAlive: boolean;
}

export type ParseResult =
  | { kind: 'incomplete' }
  | { kind: 'error'; status: number; code: ErrorCode; message: string }
  | { kind: 'ok'; head: RequestHead; /** bytes of the buffer the head took */ consumed: number };

const INCOMPLETE: ParseResult = { kind: 'incomplete' };

function bad(message: string): ParseResult {
  return { kind: 'error', status: 400, code: 'bad_request', message };
}

/** tchar (RFC 9110 §5.6.2) by byte: what a method and a header name are made of */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;
/** a header value's bytes: HTAB, visible ASCII, SP and obs-text; no other control character */
const VCHAR = new Uint8Array(256);
VCHAR[9] = 1;
for (let c = 32; c < 256; c++) VCHAR[c] = c === 127 ? 0 : 1;

const DIGITS = /^\d{1,15}$/;
const HOST = /^[\x21-\x7e]*$/;
const ABSOLUTE = /^https?:\/\/([^/?#@]+)([/?].*)?$/i;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * An object with no prototype (a header named "constructor" or "__proto__" is just a header) that
 * V8 still keeps in fast mode: Object.create(null) starts as a slow dictionary object.
 */
const HeaderMap = function HeaderMap() {} as unknown as new () => object;
HeaderMap.prototype = Object.create(null);

/** Headers that must come once: a repeat is ambiguous (which one wins differs between servers). */
const SINGLE = new Set(['host', 'content-length', 'authorization', 'range', 'if-range', 'if-modified-since', 'transfer-encoding']);

/** Empty lines before a request line are ignored (RFC 9112 §2.2), a few of them. */
const MAX_LEADING_EMPTY_LINES = 4;

/**
 * Parse the head at the start of `buf`. `incomplete` until the blank line ending it has arrived;
 * a head (or what has arrived of one) over `maxHeaderSize` bytes is a 431.
 */
export function parseHead(buf: Buffer, maxHeaderSize: number): ParseResult {
  let start = 0;
  for (let i = 0; i < MAX_LEADING_EMPTY_LINES && buf.length >= start + 2 && buf[start] === 13 && buf[start + 1] === 10; i++) start += 2;
  const end = buf.indexOf(CRLFCRLF, start);
  if (end < 0) {
    if (buf.length > maxHeaderSize) return { kind: 'error', status: 431, code: 'headers_too_large', message: 'the request header block is too large' };
    return INCOMPLETE;
  }
  if (end + 4 > maxHeaderSize) return { kind: 'error', status: 431, code: 'headers_too_large', message: 'the request header block is too large' };
  const head = parseLines(buf, start, end);
  return 'kind' in head ? head : { kind: 'ok', head, consumed: end + 4 };
}

/** A byte scan of the head's lines in buf[start, end) (end: the CR of its last line's CRLF). */
function parseLines(buf: Buffer, start: number, end: number): RequestHead | ParseResult {
  // request-line = method SP request-target SP HTTP-version, exactly
  let i = start;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  const methodEnd = i;
  if (methodEnd === start || buf[i] !== 32) return badRequestLine(buf, start, end);
  const targetStart = ++i;
  while (i < end && buf[i] >= 0x21 && buf[i] <= 0x7e) i++;
  const targetEnd = i;
  if (targetEnd === targetStart || buf[i] !== 32) return badRequestLine(buf, start, end);
  i++;
  // "HTTP/" DIGIT "." DIGIT then CRLF (or the end of the head)
  if (
    i + 8 > end || buf[i] !== 72 || buf[i + 1] !== 84 || buf[i + 2] !== 84 || buf[i + 3] !== 80 || buf[i + 4] !== 47 ||
    !isDigit(buf[i + 5]) || buf[i + 6] !== 46 || !isDigit(buf[i + 7]) || !(i + 8 === end || (buf[i + 8] === 13 && buf[i + 9] === 10))
  ) {
    return badRequestLine(buf, start, end);
  }
  const major = buf[i + 5] - 48;
  const minor = buf[i + 7] - 48;
  if (major !== 1 || (minor !== 0 && minor !== 1)) {
    return { kind: 'error', status: 505, code: 'version_not_supported', message: `HTTP/${major}.${minor} is not supported: use HTTP/1.1` };
  }
  const httpVersion = minor === 1 ? '1.1' : '1.0';
  const method = (buf as Latin1).latin1Slice(start, methodEnd);
  const target = (buf as Latin1).latin1Slice(targetStart, targetEnd);
  i += 10; // past the version's CRLF: the first header line (or past the end: none)

  const headers = new HeaderMap() as Record<string, string | undefined>;
  while (i < end + 2) {
    const lineStart = i;
    const c = buf[i];
    if (c === 32 || c === 9) return bad('obs-fold (a header line starting with whitespace) is not accepted');
    while (TCHAR[buf[i]] === 1) i++;
    if (i === lineStart || buf[i] !== 58 /* : */) return badHeaderLine(buf, lineStart, end);
    const nameEnd = i++;
    while (buf[i] === 32 || buf[i] === 9) i++;
    const valueStart = i;
    while (VCHAR[buf[i]] === 1) i++;
    // the line must end here, with CRLF (the head's own CRLFCRLF guarantees one by end + 2)
    if (buf[i] !== 13 || buf[i + 1] !== 10) return badHeaderLine(buf, lineStart, end);
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === 32 || buf[valueEnd - 1] === 9)) valueEnd--;
    i += 2;
    const name = lowerName(buf, lineStart, nameEnd);
    const value = (buf as Latin1).latin1Slice(valueStart, valueEnd);
    const prev = headers[name];
    if (prev === undefined) headers[name] = value;
    else if (SINGLE.has(name)) return bad(`more than one ${name} header`);
    else headers[name] = `${prev}, ${value}`;
  }

  const te = headers['transfer-encoding'];
  if (te !== undefined) return bad('request bodies are not accepted (Transfer-Encoding)');
  const cl = headers['content-length'];
  if (cl !== undefined) {
    if (!DIGITS.test(cl)) return bad('invalid Content-Length');
    if (Number(cl) !== 0) return bad(method === 'GET' || method === 'HEAD' ? `a ${method} request has no body` : 'request bodies are not accepted');
  }

  const host = headers.host;
  if (host === undefined && httpVersion === '1.1') return bad('an HTTP/1.1 request needs a Host header');
  if (host !== undefined && !HOST.test(host)) return bad('invalid Host header');

  let url = target;
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === '*') {
      if (method !== 'OPTIONS') return bad('the asterisk target is for OPTIONS only');
    } else {
      // absolute-form (RFC 9112 §3.2.2): reduced to origin-form; its authority must be the Host
      // (a proxy-style request naming another host is not ours to answer)
      const a = ABSOLUTE.exec(target);
      if (a === null) return bad('the request target must be an absolute path');
      if (host === undefined || a[1].toLowerCase() !== host.toLowerCase()) return bad('the absolute-form target does not match the Host header');
      const rest = a[2] ?? '/';
      url = rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
    }
  }

  const connection = headers.connection;
  let keepAlive = httpVersion === '1.1';
  if (connection !== undefined) {
    for (const t of connection.toLowerCase().split(',')) {
      const token = t.trim();
      if (token === 'close') {
        keepAlive = false;
        break;
      }
      if (token === 'keep-alive') keepAlive = true;
    }
  }
  return { method, url, httpVersion, headers, keepAlive };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Names the serving path reads or clients send on every request: matched in place, no string made */
const KNOWN = ['host', 'range', 'connection', 'user-agent', 'accept', 'if-range', 'if-none-match', 'if-modified-since',
  'content-length', 'transfer-encoding', 'authorization', 'origin', 'referer', 'accept-encoding', 'accept-language'];
const KNOWN_BY_LENGTH: string[][] = [];
for (const k of KNOWN) (KNOWN_BY_LENGTH[k.length] ??= []).push(k);

/** A header name in lower case (RFC 9110: names are case-insensitive). */
function lowerName(buf: Buffer, from: number, to: number): string {
  const known = KNOWN_BY_LENGTH[to - from];
  if (known !== undefined) {
    for (const k of known) {
      let j = 0;
      // | 0x20 lower-cases a letter and leaves '-' as it is; tchar has no byte that maps onto a
      // letter this way but the letter's own upper case
      while (j < k.length && (buf[from + j] | 0x20) === k.charCodeAt(j)) j++;
      if (j === k.length) return k;
    }
  }
  for (let k = from; k < to; k++) {
    const c = buf[k];
    if (c >= 65 && c <= 90) return (buf as Latin1).latin1Slice(from, to).toLowerCase();
  }
  return (buf as Latin1).latin1Slice(from, to);
}

/** The request line's first line as text: which refusal to give */
function firstLine(buf: Buffer, from: number, end: number): string {
  const eol = buf.indexOf(CRLFCRLF.subarray(0, 2), from);
  return (buf as Latin1).latin1Slice(from, eol < 0 || eol > end ? end : eol);
}

function badRequestLine(buf: Buffer, from: number, end: number): ParseResult {
  return bad(/[\r\n]/.test(firstLine(buf, from, end)) ? 'bare CR or LF in the request line' : 'malformed request line');
}

function badHeaderLine(buf: Buffer, from: number, end: number): ParseResult {
  const line = firstLine(buf, from, end);
  if (line.includes('\r') || line.includes('\n')) return bad('bare CR or LF in a header line');
  return bad('malformed header line');
}

/** node's Buffer method behind toString('latin1', from, to), without its argument handling */
type Latin1 = Buffer & { latin1Slice(from: number, to: number): string };
