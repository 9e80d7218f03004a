// Start a long-running program, keep its output for error messages, and stop it: SIGTERM, then
// SIGKILL after a deadline. Used by the bench (nginx, the appliance) and by the dev site.

import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** the last few KiB of stdout+stderr, for error messages */
  output(): string;
  /** resolves with the exit code (or signal name) once the process has exited */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal */
  stop(graceMs?: number): Promise<number | string>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** called with every chunk of output (e.g. to echo it) */
  onOutput?: (chunk: string) => void;
}

const KEEP = 16 * 1024;

export function startChild(name: string, cmd: string, args: string[], o: StartOptions = {}): Child {
  const proc = spawn(cmd, args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (b: Buffer) => {
    const s = b.toString('utf8');
    tail = (tail + s).slice(-KEEP);
    o.onOutput?.(s);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', (err) => {
      tail += `\n${err.message}`;
      resolve('spawn-error');
    });
  });
  if (proc.pid === undefined) {
    // spawn failures surface asynchronously through 'error'; the pid is missing right away
    throw new Error(`could not start ${name} (${cmd})`);
  }
  const pid = proc.pid;
  let stopping: Promise<number | string> | undefined;
  return {
    name,
    proc,
    pid,
    output: () => tail,
    exited,
    stop(graceMs = 10_000) {
      if (stopping) return stopping;
      if (proc.exitCode !== null || proc.signalCode !== null) return (stopping = exited);
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      stopping = exited.finally(() => clearTimeout(timer));
      return stopping;
    },
  };
}

/** Poll `check` until it returns true; fail early if the child exits, or after `timeoutMs`. */
export async function waitReady(
  child: Child,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void child.exited.then((c) => (exited = c));
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`${child.name} exited (${exited}) before it was ready:\n${child.output()}`);
    }
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`);
}

/** true if a GET of `url` answers with a status below 500 */
export async function answers(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status < 500;
}
