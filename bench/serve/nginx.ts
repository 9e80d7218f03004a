// Debian's nginx, started by the bench with its own prefix and config (never the system one),
// tuned for static range serving: one worker per core, no access log, open-file cache,
// keep-alive without a request cap, and sendfile on or off (the bench tries both).

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { answers, startChild, waitReady, type Child } from '../../scripts/lib/child.ts';
import { freePort } from '../../scripts/lib/free-port.ts';
import { nginxTlsDirectives, type BenchCert } from './tls-cert.ts';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface NginxOptions {
  /** directory that holds the files, served at /v1/f/<fileId> like the appliance */
  docroot: string;
  /** scratch directory for config, pid, logs and temp paths */
  prefix: string;
  sendfile: boolean;
  workers?: number;
  /** also listen with TLS on a second port, with the appliance's TLS policy (tls-cert.ts) */
  tls?: BenchCert;
}

export interface Nginx {
  child: Child;
  origin: string;
  /** https:// origin when started with `tls` */
  tlsOrigin?: string;
  sendfile: boolean;
  workers: number;
  /** the config as written, for the results */
  config: string;
  stop(): Promise<void>;
}

export function nginxConfig(o: NginxOptions & { port: number; workers: number; tlsPort?: number }): string {
  const p = o.prefix;
  // With sendfile off nginx copies through output_buffers; large buffers keep that path fair
  // for 1–2 MiB ranges. tcp_nopush only applies with sendfile.
  return `worker_processes ${o.workers};
worker_rlimit_nofile 20000;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events {
  worker_connections 16384;
  multi_accept on;
  use epoll;
}
http {
  default_type application/octet-stream;
  access_log off;
  sendfile ${o.sendfile ? 'on' : 'off'};
  ${o.sendfile ? 'sendfile_max_chunk 2m;\n  tcp_nopush on;' : 'output_buffers 2 1m;'}
  tcp_nodelay on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_errors on;
  client_body_temp_path ${p}/body;
  proxy_temp_path ${p}/proxy;
  fastcgi_temp_path ${p}/fastcgi;
  uwsgi_temp_path ${p}/uwsgi;
  scgi_temp_path ${p}/scgi;
  server {
    listen 127.0.0.1:${o.port} backlog=4096;${o.tls && o.tlsPort ? `
    listen 127.0.0.1:${o.tlsPort} ssl backlog=4096;
    ${nginxTlsDirectives(o.tls)}` : ''}
    location /v1/f/ {
      alias ${o.docroot}/;
    }
  }
}
`;
}

export async function startNginx(o: NginxOptions): Promise<Nginx> {
  const workers = o.workers ?? availableParallelism();
  mkdirSync(o.prefix, { recursive: true });
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : undefined;
  const config = nginxConfig({ ...o, port, workers, tlsPort });
  const confPath = join(o.prefix, 'nginx.conf');
  writeFileSync(confPath, config);
  const child = startChild(`nginx (sendfile ${o.sendfile ? 'on' : 'off'})`, NGINX_BIN, [
    '-p', o.prefix, '-c', confPath, '-g', 'daemon off;',
  ]);
  const origin = `http://127.0.0.1:${port}`;
  // any answer (a 404 for a missing file) means nginx is listening
  await waitReady(child, () => answers(`${origin}/v1/f/ready-probe`), 10_000);
  return {
    child,
    origin,
    ...(tlsPort ? { tlsOrigin: `https://127.0.0.1:${tlsPort}` } : {}),
    sendfile: o.sendfile,
    workers,
    config,
    async stop() {
      await child.stop(5_000);
    },
  };
}
