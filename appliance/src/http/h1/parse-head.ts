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

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e]+) HTTP/(\\d)\\.(\\d)$`);
/** name, then the value without surrounding blanks; no CTL but HTAB, obs-text allowed */
const HEADER_LINE = new RegExp(`^(${TOKEN}):[ \\t]*([^\\x00-\\x08\\x0a-\\x1f\\x7f]*?)[ \\t]*$`);
const DIGITS = /^\d{1,15}$/;
const HOST = /^[\x21-\x7e]*$/;
const ABSOLUTE = /^https?:\/\/([^/?#@]+)([/?].*)?$/i;

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
  const end = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (end < 0) {
    if (buf.length > maxHeaderSize) return { kind: 'error', status: 431, code: 'headers_too_large', message: 'the request header block is too large' };
    return INCOMPLETE;
  }
  if (end + 4 > maxHeaderSize) return { kind: 'error', status: 431, code: 'headers_too_large', message: 'the request header block is too large' };
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const head = parseLines(lines);
  return 'kind' in head ? head : { kind: 'ok', head, consumed: end + 4 };
}

function parseLines(lines: string[]): RequestHead | ParseResult {
  const m = REQUEST_LINE.exec(lines[0]);
  if (m === null) return bad(/[\r\n]/.test(lines[0]) ? 'bare CR or LF in the request line' : 'malformed request line');
  const [, method, target, major, minor] = m;
  if (major !== '1' || (minor !== '0' && minor !== '1')) {
    return { kind: 'error', status: 505, code: 'version_not_supported', message: `HTTP/${major}.${minor} is not supported: use HTTP/1.1` };
  }
  const httpVersion = minor === '1' ? '1.1' : '1.0';

  const headers: Record<string, string | undefined> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) return bad('obs-fold (a header line starting with whitespace) is not accepted');
    const h = HEADER_LINE.exec(line);
    if (h === null) {
      if (line.includes('\r') || line.includes('\n')) return bad('bare CR or LF in a header line');
      return bad('malformed header line');
    }
    const name = h[1].toLowerCase();
    const value = h[2];
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
