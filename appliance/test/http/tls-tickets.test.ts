// Session tickets shared between servers through the ticket-key ring, on real sockets: a ticket
// issued by one server resumes on another holding the same keys (two serving workers), still
// resumes after one rotation (the previous key is kept), and no longer after two.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type RequestOptions, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tlsServerOptions } from '../../src/http/tls/cipher-policy.ts';
import { TicketKeyCallback, TicketKeyRing } from '../../src/http/tls/ticket-keys.ts';
import { daysFromNow, makeTestCa, type Leaf, type TestCa } from './helpers/test-ca.ts';

let dir: string;
let ca: TestCa;
let leaf: Leaf;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgebox-tickets-'));
  ca = makeTestCa(dir);
  leaf = ca.leaf('leaf', ['localhost'], daysFromNow(-1), daysFromNow(30));
});
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(keys: string[]): Promise<{ port: number; tickets: TicketKeyCallback }> {
  const s: Server = createServer(tlsServerOptions(leaf), (_req, res) => { res.end('ok'); });
  const tickets = new TicketKeyCallback(keys, (m) => { throw new Error(m); });
  tickets.attach(s);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, tickets };
}

function connect(port: number, session?: Buffer): Promise<{ reused: boolean; session: Buffer }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    // session is a tls.connect option that node's https types leave out
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caPem, agent: false, session } as RequestOptions, (res) => {
      const sock = res.socket as TLSSocket;
      res.resume();
      res.on('end', () => resolve({ reused: sock.isSessionReused(), session: ticket ?? sock.getSession()! }));
    });
    req.on('socket', (s) => s.on('session', (t: Buffer) => (ticket ??= t)));
    req.on('error', reject);
    req.end();
  });
}

it('a ticket from one server resumes on another with the same keys, across one rotation but not two', async () => {
  const ring = new TicketKeyRing();
  const a = await serve(ring.keys);
  const b = await serve(ring.keys);
  const first = await connect(a.port);
  expect(first.reused).toBe(false);
  expect((await connect(b.port, first.session)).reused).toBe(true);

  ring.rotate();
  b.tickets.set(ring.keys);
  expect((await connect(b.port, first.session)).reused).toBe(true);

  ring.rotate();
  b.tickets.set(ring.keys);
  expect((await connect(b.port, first.session)).reused).toBe(false);
  // and a server with other keys never resumes it
  const c = await serve(new TicketKeyRing().keys);
  expect((await connect(c.port, (await connect(a.port)).session)).reused).toBe(false);
});
