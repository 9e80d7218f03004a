// `npm run bench:steering`: steering decisions per second and p99 with 1,000,000 prefixes and
// 10,000 appliances, in process and through HTTP (autocannon against GET /v1/steering), into
// bench/results/steering.json and steering.md. Options: --prefixes N --appliances N --seconds S
// (smaller values for a quick look). Bounded: build (~1 min) + 2 × S seconds.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { rng } from './world.ts';
import { renderMarkdown } from './report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const passArgs = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = passArgs.indexOf(`--${name}`);
  return i >= 0 ? Number(passArgs[i + 1]) : def;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 16);

const loadBefore = loadavg();
const child = spawn(process.execPath, ['--max-old-space-size=8192', '--expose-gc', join(here, 'server.ts'), ...passArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const messages: Record<string, any> = {};
const listening = new Promise<any>((resolve, reject) => {
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const m = JSON.parse(line);
    messages[m.type] = m;
    if (m.type !== 'listening') console.error(`[steering bench] ${m.type}: ${JSON.stringify(m)}`);
    if (m.type === 'listening') resolve(m);
  });
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

try {
  const srv = await listening;
  const r = rng(11);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const http = await autocannon({
    url: srv.url, connections, duration: seconds, timeout: 10,
    headers: { authorization: `Bearer ${srv.token}` },
    requests: [{
      method: 'GET',
      setupRequest(req) {
        req.path = `/v1/steering?ip=${encodeURIComponent(pick(srv.clients))}&titleId=${pick(srv.titleIds)}&region=${pick(srv.regions)}`;
        return req;
      },
    }],
  });
  const result = {
    bench: 'steering',
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30),
      loadavg_1m_before: loadBefore[0], loadavg_1m_after: loadavg()[0],
    },
    command: `npm run bench:steering${passArgs.length ? ' -- ' + passArgs.join(' ') : ''}`,
    world: messages.built,
    inprocess: messages.inprocess,
    http: {
      endpoint: 'GET /v1/steering?ip&titleId&region (operator token)', connections, seconds: http.duration,
      requests: http.requests.total, requestsPerSec: http.requests.total / http.duration,
      p50_ms: http.latency.p50, p99_ms: http.latency.p99, errors: http.errors + http.timeouts + http.non2xx,
    },
    notes: [
      'in process: parseAddress + catalogue lookup + steer(), timed one by one; decisionsPerSec over wall time of the loop',
      'the machine is shared with other builds: loadavg before/after is recorded; figures on an idle machine will be higher',
      'through HTTP: autocannon in the parent process and control in a child share the 2 cores, so the figure is a floor',
      'world: embedded sites of 4 appliances each reporting the site prefixes (70% IPv4 /16-/24, 30% IPv6 /32-/48), 1% IX appliances, ~5% overloaded, ~1.5% stale, 1% draining, 0.5% failing; each appliance holds 60% of 200 titles',
    ],
  };
  const out = join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'steering.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'steering.md'), renderMarkdown(result));
  console.log(renderMarkdown(result));
} finally {
  child.kill('SIGTERM');
}
