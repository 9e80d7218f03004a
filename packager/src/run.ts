// Running a child program and collecting its output; a non-zero exit becomes an Error that
// carries the program's last stderr lines, so a failure names its cause.

import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

export function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<RunResult & { code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const r = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 };
      if (r.code !== 0 && !opts.allowFail) {
        const tail = r.stderr.trim().split('\n').slice(-4).join(' | ');
        reject(new ToolError(`${cmd.split('/').pop()} exited ${r.code}: ${tail}`));
      } else resolve(r);
    });
  });
}
