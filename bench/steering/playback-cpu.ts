// `node bench/steering/playback-cpu.ts [--cpu-seconds S] [--connections N] [--prefixes N]
// [--appliances N] [--accounts N] [--profile-http file]`: CPU-µs per playback start over HTTP —
// the steering bench's control process (server.ts, a small world by default so it builds fast)
// under wrk's playback load, its user+system time from /proc/<pid>/stat (every thread: the event
// loop, libuv's pool, SQLite) divided by the 2xx answers. A before/after check that a busy
// shared machine does not skew the way wall-clock rates are skewed; 1e6 / µs is the implied
// starts/s on one core; mainThreadUsPerStart is the event loop's own share. Prints one JSON line.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runWrk } from './wrk.ts';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const cpuSeconds = arg('cpu-seconds', 10);
const connections = arg('connections', 16);
// --mode steering: the same for GET /v1/steering, the HTTP floor beside which a start's own work shows
const mode = argv.includes('--mode') && argv[argv.indexOf('--mode') + 1] === 'steering' ? 'steering' : 'playback';
const serverArgs = [
  '--prefixes', String(arg('prefixes', 100_000)), '--appliances', String(arg('appliances', 1_000)), '--accounts', String(arg('accounts', 10_000)),
  // the in-process and incremental phases are not what this measures: keep them short
  '--seconds', '1', '--update-rounds', '1', '--update-seconds', '0.5',
  ...(argv.includes('--profile-http') ? ['--profile-http', argv[argv.indexOf('--profile-http') + 1]] : []),
];

const child = spawn(process.execPath, ['--max-old-space-size=4096', '--expose-gc', join(here, 'server.ts'), ...serverArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
const listening = new Promise<any>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.type === 'listening') resolve(m);
  });
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

// utime + stime of the whole process in clock ticks (fields 14 and 15; the command name in
// parentheses may hold spaces, so count from its closing parenthesis). Linux's USER_HZ is 100.
const TICKS_PER_SECOND = 100;
// The same for the main thread alone (/proc/<pid>/task/<pid>/stat): the event loop, which wrk's
// load keeps busy and which bounds the starts/s of one core; the rest is the SQLite checkpoint
// worker, V8's compiler and GC helpers and libuv's pool, which may run on another core.
const cpuOf = (pid: number) => {
  const ticks = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
  };
  const main = ticks(`/proc/${pid}/task/${pid}/stat`);
  return { ...ticks(`/proc/${pid}/stat`), main: main.user + main.system };
};

try {
  const srv = await listening;
  const pid = child.pid!;
  // Warm-up: the JIT, the prepared statements, the session table's first rows.
  await runWrk(srv.url, mode, srv.wrkData, srv.token, 3, connections);
  // wrk runs for wall-clock seconds; on a loaded machine the server may get far less than a core,
  // so keep going until it has used cpuSeconds of CPU.
  let user = 0, system = 0, main = 0, starts = 0, requests = 0, non2xx = 0, wall = 0;
  while (user + system < cpuSeconds) {
    const c0 = cpuOf(pid);
    const run = await runWrk(srv.url, mode, srv.wrkData, srv.token, 5, connections);
    const c1 = cpuOf(pid);
    user += c1.user - c0.user;
    system += c1.system - c0.system;
    main += c1.main - c0.main;
    requests += run.requests;
    non2xx += run.non2xx;
    starts += run.requests - run.non2xx;
    wall += run.seconds;
  }
  const cpuUsPerStart = ((user + system) * 1e6) / starts;
  console.log(JSON.stringify({
    bench: 'playback-cpu', mode, serverArgs: serverArgs.join(' '), connections, wallSeconds: wall, serverUserSeconds: user, serverSystemSeconds: system, requests, starts, non2xx,
    cpuUsPerStart: Math.round(cpuUsPerStart), userUsPerStart: Math.round((user * 1e6) / starts), systemUsPerStart: Math.round((system * 1e6) / starts), startsPerCpuSecond: Math.round(1e6 / cpuUsPerStart),
    mainThreadUsPerStart: Math.round((main * 1e6) / starts),
  }));
} finally {
  child.kill('SIGTERM');
}
