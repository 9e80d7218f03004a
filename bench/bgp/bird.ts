// BIRD 2 for the BGP bench: its own temp dir and control socket, a long start-up allowance (a
// million static routes take a while to parse), and a wait until every route is in BIRD's
// tables, so the timed transfer starts with BIRD ready to send.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface BenchBird {
  birdc(cmd: string): Promise<string>;
  routesLoaded(): Promise<number>;
  /** BIRD's CPU time so far (user + system), from /proc */
  cpuSeconds(): number;
  stop(): void;
}

export async function startBird(config: string, timeoutMs = 300_000): Promise<BenchBird> {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-bgp-bench-bird-'));
  const conf = join(dir, 'bird.conf'), sock = join(dir, 'bird.ctl');
  writeFileSync(conf, config);
  const proc = spawn('/usr/sbin/bird', ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const birdc = async (cmd: string) => (await exec('/usr/sbin/birdc', ['-s', sock, ...cmd.split(' ')], { maxBuffer: 1 << 24 })).stdout;
  const stop = () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) { stop(); throw new Error(`bird exited: ${err}`); }
    try { await birdc('show status'); break; } catch { /* still parsing */ }
    if (Date.now() > deadline) { stop(); throw new Error(`bird did not start in ${timeoutMs} ms: ${err}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  const routesLoaded = async () => {
    const out = await birdc('show route count');
    // "1000000 of 1000000 routes for 1000000 networks in table master4"
    return [...out.matchAll(/(\d+) of \d+ routes for \d+ networks in table master[46]/g)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const cpuSeconds = () => {
    const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  };
  return { birdc, routesLoaded, cpuSeconds, stop };
}
