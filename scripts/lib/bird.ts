// BIRD 2 as an ordinary child process rather than the system daemon: its own config, control
// socket and pid file in a directory of ours, in the foreground, logging to stderr (kept in
// bird.log), stopped with SIGTERM. As the BGP tests run it (appliance/test/bgp/helpers/routers.ts).

import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { startChild, type Child } from './child.ts';

const exec = promisify(execFile);

/** Debian puts bird in /usr/sbin, which is not on a non-root user's PATH. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

export interface RunningBird {
  pid: number;
  child: Child;
  logPath: string;
  /** a birdc command, e.g. 'show protocols' */
  birdc(command: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBird(o: { dir: string; config: string; onOutput?: (s: string) => void }): Promise<RunningBird> {
  const bird = findProgram('bird');
  const birdcBin = findProgram('birdc');
  if (!bird || !birdcBin) throw new Error('BIRD is not installed (Debian package bird2)');
  const conf = join(o.dir, 'bird.conf');
  const sock = join(o.dir, 'bird.ctl');
  writeFileSync(conf, o.config);
  const logPath = join(o.dir, 'bird.log');
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = startChild('bird', bird, ['-f', '-c', conf, '-s', sock, '-P', join(o.dir, 'bird.pid')], {
    onOutput: (s) => {
      log.write(s);
      o.onOutput?.(s);
    },
  });
  const birdc = async (command: string) => (await exec(birdcBin, ['-s', sock, ...command.split(' ')])).stdout;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await birdc('show status');
      break;
    } catch (e) {
      if (child.proc.exitCode !== null || Date.now() > deadline) {
        await child.stop(2_000);
        log.end();
        throw new Error(`bird did not start: ${child.output().trim() || (e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    pid: child.pid,
    child,
    logPath,
    birdc,
    async stop() {
      await child.stop(5_000);
      log.end();
    },
  };
}
