// The site's stand-in for the ISP's router when BIRD is not installed: a minimal BGP speaker that
// waits for the appliances to connect, opens the session and advertises a fixed prefix list (plus
// End-of-RIB), then only keeps the session alive. It learns nothing and never withdraws. The
// appliance speaks to it exactly as to BIRD, so steering works the same way.

import net from 'node:net';
import { encodeOpen } from '../../appliance/src/bgp/open-message.ts';
import { encodeKeepalive } from '../../appliance/src/bgp/simple-messages.ts';
import { encodeEndOfRib, encodeUpdate } from '../../appliance/src/bgp/update-encoder.ts';
import { HEADER_LEN, MSG } from '../../appliance/src/bgp/wire.ts';

export interface StaticAnnouncerOptions {
  address: string;
  port: number;
  asn: number;
  routerId: string;
  holdTimeS: number;
  /** the neighbors allowed to connect (their source addresses) */
  neighbors: string[];
  prefixes: string[];
}

export interface StaticAnnouncer {
  /** neighbors with an established session now */
  established(): string[];
  close(): Promise<void>;
}

export async function startStaticAnnouncer(o: StaticAnnouncerOptions): Promise<StaticAnnouncer> {
  const sessions = new Map<net.Socket, { peer: string; up: boolean; timer?: NodeJS.Timeout }>();
  const v4 = o.prefixes.filter((p) => !p.includes(':'));
  const v6 = o.prefixes.filter((p) => p.includes(':'));

  const server = net.createServer((sock) => {
    const peer = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!o.neighbors.includes(peer)) {
      sock.destroy();
      return;
    }
    const s: { peer: string; up: boolean; timer?: NodeJS.Timeout } = { peer, up: false };
    sessions.set(sock, s);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearInterval(s.timer);
      sessions.delete(sock);
    });
    sock.write(encodeOpen({ asn: o.asn, holdTime: o.holdTimeS, routerId: o.routerId, families: ['ipv4', 'ipv6'], restartTime: null }));
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= HEADER_LEN && buf.length >= buf.readUInt16BE(16)) {
        const len = buf.readUInt16BE(16);
        const type = buf[18];
        buf = buf.subarray(len);
        if (type === MSG.OPEN) {
          sock.write(encodeKeepalive());
        } else if (type === MSG.KEEPALIVE && !s.up) {
          s.up = true;
          if (v4.length) sock.write(encodeUpdate({ announced: v4, asPath: [o.asn], nextHop: o.address }));
          if (v6.length) sock.write(encodeUpdate({ announced: v6, asPath: [o.asn], nextHop6: '2001:db8::1' }));
          sock.write(encodeEndOfRib('ipv4'));
          sock.write(encodeEndOfRib('ipv6'));
          s.timer = setInterval(() => sock.write(encodeKeepalive()), Math.max(1, o.holdTimeS / 3) * 1000);
        } else if (type === MSG.NOTIFICATION) {
          sock.destroy();
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    established: () => [...sessions.values()].filter((s) => s.up).map((s) => s.peer).sort(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of sessions.keys()) sock.destroy();
        server.close(() => resolve());
      }),
  };
}
