// The serving port's HTTP/1.1 server: a net.Server for plain HTTP or a tls.Server for HTTPS (ALPN
// http/1.1), both handing their sockets to the same connection code (connection.ts). One sweep
// per server enforces the head and keep-alive timeouts of every connection; the kernel's accept
// path enforces maxConnections (net.Server's own limit).

import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { Connection, type ConnectionHost, type ConnectionLimits, type RequestHandler } from './connection.ts';

export interface H1Limits extends ConnectionLimits {
  /** this worker's share of the box's connection limit */
  maxConnections: number;
}

export class H1Server implements ConnectionHost {
  /** the listening server: tls.Server when made with TLS options, else net.Server */
  readonly server: NetServer | TlsServer;
  readonly limits: H1Limits;
  readonly handler: RequestHandler;
  readonly keepAliveLines: string;
  closing = false;
  #connections = new Set<Connection>();
  #sweep: NodeJS.Timeout;

  constructor(limits: H1Limits, handler: RequestHandler, tls?: TlsOptions) {
    this.limits = limits;
    this.handler = handler;
    this.keepAliveLines = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.max(1, Math.floor(limits.keepAliveTimeoutMs / 1000))}\r\n`;
    const accept = (socket: Socket): void => {
      // a client's FIN ends its requests, not our answers (connection.ts). Set on the socket, not
      // as the TLS server's option: there it would also keep a socket whose handshake the client
      // gave up on (FIN before secure) open for good.
      socket.allowHalfOpen = true;
      this.#connections.add(new Connection(socket, this));
    };
    this.server = tls === undefined
      ? createNetServer({ noDelay: true }, accept)
      : createTlsServer({ ...tls, handshakeTimeout: limits.headersTimeoutMs }, accept);
    this.server.maxConnections = limits.maxConnections;
    this.#sweep = setInterval(() => this.#check(), Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 2, limits.keepAliveTimeoutMs / 2)));
    this.#sweep.unref();
    this.server.once('close', () => clearInterval(this.#sweep));
  }

  forget(c: Connection): void {
    this.#connections.delete(c);
  }

  /** connections open now */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stop accepting; connections close once their response in flight is done. */
  close(cb?: () => void): void {
    this.closing = true;
    this.server.close(() => cb?.());
    this.closeIdleConnections();
  }

  closeIdleConnections(): void {
    for (const c of this.#connections) if (c.idle) c.close();
  }

  #check(): void {
    const now = Date.now();
    for (const c of this.#connections) c.check(now);
  }
}
