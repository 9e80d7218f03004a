// Run one of this repo's Node services that takes a JSON config and answers GET /healthz when
// ready (control, the packager's origin) as a child process: write the config, start it, keep its
// log in a file, wait until it answers. It can be killed and started again at the same address
// with the same config (a source that dies mid-transfer and comes back). Used by cluster.ts.

import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, startChild, waitReady, type Child } from './child.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceSpec {
  name: string;
  /** entry file, relative to the repo root (e.g. 'control/main.ts') */
  main: string;
  /** how the config path is passed: ['--config', path] or [path] */
  configArgs: (path: string) => string[];
  /** the service's settings; `host` and `port` are set from the fields below */
  config: Record<string, unknown>;
  /** where the config (0600) and `<name>.log` go */
  dir: string;
  /** the config's file name in `dir` (default `<name>.json`) */
  configFile?: string;
  port: number;
  host?: string;
  /** called with every chunk of output, besides the log file */
  onOutput?: (chunk: string) => void;
  readyTimeoutMs?: number;
}

export interface RunningService {
  name: string;
  url: string;
  configPath: string;
  logPath: string;
  /** the current process (changes on restart) */
  child: Child;
  pid: number;
  /** SIGTERM, then SIGKILL after graceMs */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now, as a crash */
  kill(): Promise<void>;
  /** start again (after stop or kill) with the same config and port, and wait until it answers */
  restart(): Promise<void>;
}

export async function startService(spec: ServiceSpec): Promise<RunningService> {
  mkdirSync(spec.dir, { recursive: true });
  const configPath = join(spec.dir, spec.configFile ?? `${spec.name}.json`);
  const host = spec.host ?? '127.0.0.1';
  writeFileSync(configPath, `${JSON.stringify({ ...spec.config, host, port: spec.port }, null, 2)}\n`, { mode: 0o600 });
  const logPath = join(spec.dir, `${spec.name}.log`);
  const logFile = createWriteStream(logPath, { flags: 'a' });
  const url = `http://${host}:${spec.port}`;

  const spawnOnce = async (): Promise<Child> => {
    const child = startChild(spec.name, process.execPath, [join(REPO_ROOT, spec.main), ...spec.configArgs(configPath)], {
      cwd: REPO_ROOT,
      onOutput: (s) => {
        logFile.write(s);
        spec.onOutput?.(s);
      },
    });
    try {
      await waitReady(child, () => answers(`${url}/healthz`), spec.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await child.stop(2_000);
      throw e;
    }
    return child;
  };

  let child: Child;
  try {
    child = await spawnOnce();
  } catch (e) {
    logFile.end();
    throw e;
  }
  let closed = false;
  const svc: RunningService = {
    name: spec.name,
    url,
    configPath,
    logPath,
    get child() { return child; },
    get pid() { return child.pid; },
    async stop(graceMs = 10_000) {
      await child.stop(graceMs);
      if (!closed) logFile.end();
      closed = true;
    },
    async kill() {
      child.proc.kill('SIGKILL');
      await child.exited;
    },
    async restart() {
      if (closed) throw new Error(`${spec.name}: stopped for good`);
      await child.stop(10_000);
      child = await spawnOnce();
    },
  };
  return svc;
}
