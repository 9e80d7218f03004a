// A serving worker's HTTPS side: the certificate and the shared session-ticket keys as the main
// thread sends them. setSecureContext applies to new connections only; open ones keep the
// context they were made with, so a long download started before a reload completes on the old
// certificate. Each new context gets the ticket-key callback again (it belongs to the context).

import type { Server as TlsServer } from 'node:tls';
import { secureContextOptions, type CertificateMaterial } from './cipher-policy.ts';
import { TicketKeyCallback } from './ticket-keys.ts';

/** What a worker is started with when the box serves HTTPS (part of WorkerInit). */
export interface WorkerTls {
  host: string;
  port: number;
  /** HTTPS only: no plain HTTP listener on the public port */
  only: boolean;
  /** null until the main thread has a usable certificate */
  material: CertificateMaterial | null;
  /** hex, current first (ticket-keys.ts) */
  ticketKeys: string[];
}

export class SecureServing {
  readonly server: TlsServer;
  #tickets: TicketKeyCallback;

  constructor(server: TlsServer, ticketKeys: string[], warn: (msg: string) => void) {
    this.server = server;
    this.#tickets = new TicketKeyCallback(ticketKeys, warn);
    this.#tickets.attach(server);
  }

  setCertificate(m: CertificateMaterial): void {
    this.server.setSecureContext(secureContextOptions(m));
    this.#tickets.attach(this.server);
  }

  setTicketKeys(keys: string[]): void {
    this.#tickets.set(keys);
    this.#tickets.attach(this.server);
  }
}
