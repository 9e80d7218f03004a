// Child processes for the tests: the CLI run to completion, and the origin server started on an
// ephemeral port (its log line names the address) and stopped by the test.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function runNode(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface Started {
  url: string;
  stop: () => Promise<void>;
}

export function startOrigin(store: string, env: Record<string, string> = {}): Promise<Started> {
  return startDaemon(['packager/origin.ts'], { EDGEBOX_ORIGIN_PORT: '0', EDGEBOX_ORIGIN_STORE: store, ...env }, /"address":"([^"]+)".*"origin listening"/);
}

/** The real control service (its own process), for registration tests. */
export function startControlProcess(env: Record<string, string>): Promise<Started> {
  return startDaemon(['control/main.ts'], { EDGEBOX_CONTROL_PORT: '0', ...env }, /"url":"([^"]+)".*"control listening"/);
}

function startDaemon(args: string[], env: Record<string, string>, ready: RegExp): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} did not start: ${buf}`));
    }, 20_000);
    const stop = () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      });
    child.stdout.on('data', (b: Buffer) => {
      buf += b;
      const m = ready.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop });
      }
    });
    child.stderr.on('data', (b: Buffer) => (buf += b));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited ${code}: ${buf}`));
    });
  });
}
