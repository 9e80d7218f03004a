// Runs the real control service (`node control/main.ts <config>`) as a child process on a fixed
// loopback port, so it can be stopped and started again at the same address.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../../..');

export const OPERATOR_TOKEN = 'operator-token-for-reporter-tests';
export const ENROLLMENT_TOKEN = 'enrollment-token-for-reporter-tests-0001';

export interface ControlProc {
  url: string;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  op(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export async function startControlProcess(dir: string, port: number, reportIntervalMs: number): Promise<ControlProc> {
  const config = path.join(dir, 'control.json');
  await writeFile(config, JSON.stringify({
    host: '127.0.0.1', port, dbPath: path.join(dir, 'control.db'), logLevel: 'info', operatorToken: OPERATOR_TOKEN,
    enrollmentTokens: [{ token: ENROLLMENT_TOKEN, siteId: 'lon-1' }], reportIntervalMs, publicUrl: `http://127.0.0.1:${port}`,
  }));
  const proc: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'control/main.ts'), config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`control did not start: ${out}`)), 20000);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('control listening')) { clearTimeout(t); resolve(); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => { out += d; });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`control exited ${code}: ${out}`)); });
  });
  proc.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
    op: async (method, p, body) => {
      const res = await fetch(url + p, {
        method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}
