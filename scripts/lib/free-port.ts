// A free loopback TCP port, for programs that cannot listen on port 0 and report back (nginx).
// The port is released before the caller binds it, so a race with another process is possible
// but unlikely on loopback; callers that start a server retry on EADDRINUSE where it matters.

import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
