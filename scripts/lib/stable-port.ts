// Ports that stay the same across runs of the dev site, so printed URLs keep working after a
// restart, an appliance's stored control credential (kept per control URL) stays valid, and the
// public URL each appliance enrolled with (control keeps it from enrollment) still reaches it.
//
// A port remembered in `<file>` is reused when it is still free. A new one is picked below the
// kernel's ephemeral range (ip_local_port_range, 32768+ on Linux), where no outgoing connection
// can be holding it when the site starts again; a free ephemeral port only if that range is full.
// Calls for one file are serialised (the cluster asks for its appliances' ports concurrently).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './free-port.ts';

const LOW = 20_000;
const HIGH = 32_000;

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export interface StablePort {
  port: number;
  /** the port remembered from an earlier run, when it was taken and another was picked */
  moved?: number;
}

/** calls on one file, one at a time: each reads, adds its port and writes the whole file */
const queues = new Map<string, Promise<unknown>>();

export function stablePortInfo(file: string, name: string, host = '127.0.0.1'): Promise<StablePort> {
  const next = (queues.get(file) ?? Promise.resolve()).catch(() => {}).then(() => pick(file, name, host));
  queues.set(file, next);
  return next;
}

async function pick(file: string, name: string, host: string): Promise<StablePort> {
  const known: Record<string, number> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const was = known[name];
  if (Number.isInteger(was) && was > 0 && (await isFree(was, host))) return { port: was };
  const taken = new Set(Object.values(known));
  let port = 0;
  for (let i = 0; i < 64 && port === 0; i++) {
    const p = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (!taken.has(p) && (await isFree(p, host))) port = p;
  }
  if (port === 0) port = await freePort(host);
  known[name] = port;
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`);
  return Number.isInteger(was) && was > 0 ? { port, moved: was } : { port };
}

export async function stablePort(file: string, name: string, host = '127.0.0.1'): Promise<number> {
  return (await stablePortInfo(file, name, host)).port;
}
