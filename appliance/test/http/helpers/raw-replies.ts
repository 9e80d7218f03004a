// Split what a server sent on one connection into its responses (Content-Length framing), for
// tests that speak HTTP over raw sockets.

export interface RawReply {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  body: Buffer;
}

/** Whole responses in order, and the bytes after the last whole one. */
export function splitReplies(all: Buffer): { responses: RawReply[]; rest: Buffer } {
  const responses: RawReply[] = [];
  let at = 0;
  for (;;) {
    const end = all.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = all.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (all.length < end + 4 + length) break;
    responses.push({ status: Number(lines[0].split(' ')[1]), headers, body: all.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return { responses, rest: all.subarray(at) };
}
