// Drive control with wrk (native, one thread: the load generator keeps to one core and control's
// single thread gets the other) and requests.lua, for steering queries or playback starts.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spread, type Spread } from './samples.ts';

const SCRIPT = fileURLToPath(new URL('./requests.lua', import.meta.url));
const WRK_BIN = process.env.WRK_BIN ?? '/usr/bin/wrk';

export interface WrkData { accounts: string; clients: string; titles: string; regions: string }

export interface WrkRun {
  endpoint: string;
  client: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  p50_ms: number;
  p99_ms: number;
  /** socket errors and non-2xx answers (for playback, a 429 stream limit counts here) */
  errors: number;
  non2xx: number;
}

export function runWrk(url: string, mode: 'steering' | 'playback', data: WrkData, operatorToken: string, seconds: number, connections: number): Promise<WrkRun> {
  const args = [
    '-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', SCRIPT, url, '--',
    mode, data.accounts, data.clients, data.titles, data.regions, operatorToken,
  ];
  return new Promise((resolve, reject) => {
    const p = spawn(WRK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (exit ${code}):\n${out.slice(-2000)}`));
        return;
      }
      const j = JSON.parse(line.slice('WRK_JSON '.length));
      const e = j.errors;
      const secs = j.duration_us / 1e6;
      resolve({
        endpoint: mode === 'steering' ? 'GET /v1/steering?ip&titleId&region (operator token)' : 'POST /v1/playback (account token, X-Forwarded-For viewer)',
        client: 'wrk -t1', connections, seconds: secs, requests: j.requests, requestsPerSec: (j.requests - e.status) / secs,
        p50_ms: j.latency_us.p50 / 1000, p99_ms: j.latency_us.p99 / 1000,
        errors: e.connect + e.read + e.write + e.timeout + e.status, non2xx: e.status,
      });
    });
  });
}

export interface WrkRounds extends WrkRun {
  rounds: WrkRun[];
  spread: { requestsPerSec: Spread; p99_ms: Spread };
}

/**
 * `rounds` runs of `seconds / rounds` each (at least 1 s): requests, errors and seconds summed,
 * the rate and latencies the median round's, and their spread.
 */
export async function runWrkRounds(url: string, mode: 'steering' | 'playback', data: WrkData, operatorToken: string, seconds: number, connections: number, rounds: number): Promise<WrkRounds> {
  const runs: WrkRun[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await runWrk(url, mode, data, operatorToken, Math.max(1, seconds / rounds), connections));
  const med = (f: (r: WrkRun) => number) => spread(runs.map(f)).median;
  const sum = (f: (r: WrkRun) => number) => runs.reduce((a, r) => a + f(r), 0);
  return {
    ...runs[0], seconds: sum((r) => r.seconds), requests: sum((r) => r.requests), errors: sum((r) => r.errors), non2xx: sum((r) => r.non2xx),
    requestsPerSec: med((r) => r.requestsPerSec), p50_ms: med((r) => r.p50_ms), p99_ms: med((r) => r.p99_ms),
    rounds: runs, spread: { requestsPerSec: spread(runs.map((r) => r.requestsPerSec)), p99_ms: spread(runs.map((r) => r.p99_ms)) },
  };
}
