// Ports that stay the same across runs of the dev site, so printed URLs keep working after a
// restart and an appliance's stored control credential (kept per control URL) stays valid.
// A port remembered in `<file>` is reused when it is still free; otherwise a new free one is
// picked and remembered.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './free-port.ts';

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export async function stablePort(file: string, name: string, host = '127.0.0.1'): Promise<number> {
  const known: Record<string, number> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const was = known[name];
  if (Number.isInteger(was) && was > 0 && (await isFree(was, host))) return was;
  const port = await freePort(host);
  known[name] = port;
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`);
  return port;
}
