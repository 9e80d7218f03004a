// `node bench/steering/playback-cpu-ab.ts <tree> <tree>...` (env ROUNDS, default 8; SECS per
// round, default 2): CPU-µs per playback start for several trees' control (each tree's
// bench/steering/server.ts on the small world playback-cpu.ts uses), all up at once, with wrk's
// playback load going to one after another in short rounds, the order rotating each round. On a
// shared machine a figure from separate runs minutes apart mixes the change with the machine's
// load; here each tree's rounds interleave with the others'. Still noisy at load 7-10 (one round
// may take twice another's CPU per start): read the per-round figures, and prefer many rounds.
// Prints one JSON line per tree: cpuUsPerStart (all threads), mainUsPerStart, the rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runWrk, type WrkData } from './wrk.ts';

interface Server { url: string; token: string; wrkData: WrkData; child: ChildProcess }

const trees = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rounds = Number(process.env.ROUNDS ?? 8);
const seconds = Number(process.env.SECS ?? 2);
// playback-cpu.ts's server: a small world, the in-process and incremental phases kept short
const serverArgs = [
  '--prefixes', '100000', '--appliances', '1000', '--accounts', '10000',
  '--seconds', '1', '--update-rounds', '1', '--update-seconds', '0.5',
];

function startServer(tree: string): Promise<Server> {
  const child = spawn(process.execPath, ['--max-old-space-size=4096', '--expose-gc', `${tree}/bench/steering/server.ts`, ...serverArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.type === 'listening') resolve({ url: m.url, token: m.token, wrkData: m.wrkData, child });
    });
    child.once('exit', (code) => reject(new Error(`bench server of ${tree} exited with ${code}`)));
  });
}

/** user + system seconds of the process, or of its main thread alone (as playback-cpu.ts reads them) */
function cpuSeconds(pid: number, mainThread = false): number {
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const servers: Server[] = [];
try {
  for (const tree of trees) servers.push(await startServer(tree)); // one at a time: the builds do not compete
  for (const s of servers) await runWrk(s.url, 'playback', s.wrkData, s.token, 3, 16); // warm-up
  const sum = servers.map(() => ({ cpu: 0, main: 0, starts: 0, rounds: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const k = (i + r) % servers.length;
      const pid = servers[k].child.pid!;
      const cpu0 = cpuSeconds(pid), main0 = cpuSeconds(pid, true);
      const run = await runWrk(servers[k].url, 'playback', servers[k].wrkData, servers[k].token, seconds, 16);
      const cpu = cpuSeconds(pid) - cpu0, starts = run.requests - run.non2xx;
      sum[k].cpu += cpu;
      sum[k].main += cpuSeconds(pid, true) - main0;
      sum[k].starts += starts;
      sum[k].rounds.push(Math.round((cpu * 1e6) / starts));
    }
  }
  trees.forEach((tree, k) => console.log(JSON.stringify({
    tree, cpuUsPerStart: Math.round((sum[k].cpu * 1e6) / sum[k].starts), mainUsPerStart: Math.round((sum[k].main * 1e6) / sum[k].starts),
    starts: sum[k].starts, roundsCpuUsPerStart: sum[k].rounds,
  })));
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
}
