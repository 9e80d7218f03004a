// Running the build's external programs (mmdebstrap, mkfs, mtools, sfdisk, syslinux): one call
// that waits, keeps the output, and fails with the command line and the tail of its stderr.

import { spawn } from 'node:child_process';

export class CommandError extends Error {
  readonly code: number | null;
  constructor(message: string, code: number | null) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** written to the child's stdin, then closed */
  input?: string;
  /** stream the child's output to ours (long steps, so a human sees it move) */
  inherit?: boolean;
}

export function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd, env: o.env ?? process.env,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', o.inherit ? 'inherit' : 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      err.push(b);
      if (o.inherit) process.stderr.write(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new CommandError(e.code === 'ENOENT' ? `${cmd}: not installed (see .ci/run's debs list)` : `${cmd}: ${e.message}`, null));
    });
    child.on('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-40).join('\n');
      reject(new CommandError(`${cmd} ${args.join(' ')} exited ${code}\n${tail}`, code));
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

/** The first of `candidates` that is an executable on PATH (or an absolute path that exists). */
export async function which(name: string): Promise<string | null> {
  try {
    return (await run('sh', ['-c', `command -v ${name}`])).trim() || null;
  } catch {
    return null;
  }
}
