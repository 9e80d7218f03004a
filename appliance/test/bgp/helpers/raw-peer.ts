// A scripted BGP peer over a real TCP socket, for sending exactly the bytes a test wants
// (malformed messages, fuzz) and reading what our speaker answers. It parses replies with its
// own minimal framing so it does not share code with the decoder under test.

import net from 'node:net';

export interface Reply { type: number; body: Buffer }

export function rawOpen(o: { asn: number; hold?: number; routerId?: string; as4?: boolean; v6?: boolean; version?: number }): Buffer {
  const caps: number[] = [];
  caps.push(1, 4, 0, 1, 0, 1);
  if (o.v6 !== false) caps.push(1, 4, 0, 2, 0, 1);
  caps.push(2, 0);
  if (o.as4 !== false) caps.push(65, 4, (o.asn >>> 24) & 0xff, (o.asn >>> 16) & 0xff, (o.asn >>> 8) & 0xff, o.asn & 0xff);
  const my = o.asn > 0xffff ? 23456 : o.asn;
  const id = (o.routerId ?? '10.9.9.9').split('.').map(Number);
  const hold = o.hold ?? 90;
  const body = [o.version ?? 4, my >> 8, my & 0xff, hold >> 8, hold & 0xff, ...id, caps.length + 2, 2, caps.length, ...caps];
  return msg(1, Buffer.from(body));
}

export function msg(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  body.copy(b, 19);
  return b;
}

export const KEEPALIVE = msg(4, Buffer.alloc(0));

export class RawPeer {
  readonly sock: net.Socket;
  readonly replies: Reply[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      while (this.#buf.length >= 19) {
        const len = this.#buf.readUInt16BE(16);
        if (this.#buf.length < len) break;
        this.replies.push({ type: this.#buf[18], body: this.#buf.subarray(19, len) });
        this.#buf = this.#buf.subarray(len);
      }
      this.#wake();
    });
    sock.on('close', () => { this.closed = true; this.#wake(); });
    sock.on('error', () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  static async connect(host: string, port: number, localAddress: string): Promise<RawPeer> {
    const sock = net.connect({ host, port, localAddress });
    await new Promise<void>((res, rej) => { sock.once('connect', () => res()); sock.once('error', rej); });
    return new RawPeer(sock);
  }

  /** Resolve with the first reply matching `pred` (or null once the connection closes). */
  async next(pred: (r: Reply) => boolean, timeoutMs = 5000): Promise<Reply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.replies.find(pred);
      if (r) return r;
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('raw peer: timed out waiting for a reply');
      await new Promise<void>((res) => {
        this.#waiters.push(res);
        setTimeout(res, 100);
      });
    }
  }

  async notification(timeoutMs = 5000): Promise<{ code: number; subcode: number } | null> {
    const r = await this.next((x) => x.type === 3, timeoutMs);
    return r ? { code: r.body[0], subcode: r.body[1] } : null;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('raw peer: connection not closed');
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Full handshake: our OPEN, their OPEN + KEEPALIVE, our KEEPALIVE. */
  async establish(open: Buffer): Promise<void> {
    this.sock.write(open);
    await this.next((r) => r.type === 1);
    await this.next((r) => r.type === 4);
    this.sock.write(KEEPALIVE);
  }

  send(b: Buffer): void {
    this.sock.write(b);
  }

  close(): void {
    this.sock.destroy();
  }
}
