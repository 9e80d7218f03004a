// Drive a server with wrk (Debian's, LuaJIT) and ranges.lua, which picks random byte ranges
// over a file list and prints a JSON summary from done(). wrk is native, so it can push bulk
// throughput that a JavaScript generator cannot (autocannon tops out near 100 MB/s).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './measurement.ts';

const SCRIPT = fileURLToPath(new URL('./ranges.lua', import.meta.url));
export const WRK_BIN = process.env.WRK_BIN ?? '/usr/bin/wrk';

export interface WrkOptions {
  origin: string;
  /** "<path> <size>" lines, written once per workload by writePathList */
  pathList: string;
  mode: 'uniform' | 'zipf';
  minBytes: number;
  maxBytes: number;
  zipfS?: number;
  seconds: number;
  threads: number;
  connections: number;
}

interface WrkJson {
  duration_us: number;
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { p50: number; p99: number };
}

export function writePathList(file: string, entries: Array<{ path: string; bytes: number }>): string {
  writeFileSync(file, entries.map((e) => `${e.path} ${e.bytes}\n`).join(''));
  return file;
}

export function runWrk(o: WrkOptions): Promise<LoadResult> {
  const args = [
    `-t${o.threads}`, `-c${o.connections}`, `-d${Math.max(1, Math.round(o.seconds))}s`, '--timeout', '10s',
    '-s', SCRIPT, o.origin, '--',
    o.pathList, o.mode, String(o.minBytes), String(o.maxBytes), String(o.zipfS ?? 1.0),
  ];
  return new Promise((resolve, reject) => {
    const p = spawn(WRK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), (o.seconds + 30) * 1000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (exit ${code}):\n${out.slice(-2000)}`));
        return;
      }
      const j = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
      const e = j.errors;
      resolve({
        seconds: j.duration_us / 1e6,
        requests: j.requests,
        bytes: j.bytes,
        p50_ms: j.latency_us.p50 / 1000,
        p99_ms: j.latency_us.p99 / 1000,
        errors: e.connect + e.read + e.write + e.status + e.timeout,
      });
    });
  });
}
