// Test harness: a real appliance daemon process on temp store roots, with files published
// through the store's own put() before it starts (the store belongs to the daemon once it runs).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken, type FileKind, type SignOptions } from '../../../protocol/index.ts';
import { openStore } from '../../src/store/store.ts';

export const MAIN = fileURLToPath(new URL('../../main.ts', import.meta.url));
export const KID = 'k1';
export const SECRET = 'test-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token';

export interface FixtureFile {
  fileId: string;
  bytes: number;
  tier: 'ram' | 'ssd' | 'hdd';
  kind?: FileKind;
}

export interface Published {
  fileId: string;
  data: Buffer;
  tier: 'ram' | 'ssd' | 'hdd';
}

export interface Daemon {
  dir: string;
  child: ChildProcess;
  port: number;
  adminPort: number;
  origin: string;
  admin: string;
  files: Map<string, Published>;
  stdout: string[];
  stderr: string[];
  /** resolves with the exit code once the process has exited */
  exited: Promise<number | null>;
  token(o?: Partial<SignOptions>): string;
  adminFetch(path: string, init?: RequestInit): Promise<Response>;
  metrics(): Promise<string>;
  /** SIGTERM (drain) and wait for exit; kills it if it lingers */
  stop(): Promise<number | null>;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function publish(dir: string, files: FixtureFile[], settings: Record<string, unknown>): Promise<Map<string, Published>> {
  const out = new Map<string, Published>();
  const store = await openStore({
    stateDir: join(dir, 'state'),
    roots: settings.storage as never,
    ramBytes: 0,
  });
  try {
    // SSD first, while its root has room; HDD files land on HDD because SSD is capped at the
    // SSD files' total (see storage in startDaemon)
    const order = [...files].sort((a, b) => Number(a.tier === 'hdd') - Number(b.tier === 'hdd'));
    for (const f of order) {
      const data = randomBytes(f.bytes);
      const stored = await store.put(f.fileId, [data], {
        bytes: data.length,
        sha256: sha256(data),
        kind: f.kind ?? 'video',
        // rank 0 scores above the RAM threshold; unranked files stay on disk
        rank: f.tier === 'ram' ? 0 : null,
      });
      if (f.tier !== 'ram' && stored.tier !== f.tier) throw new Error(`${f.fileId} landed on ${stored.tier}, wanted ${f.tier}`);
      out.set(f.fileId, { fileId: f.fileId, data, tier: f.tier });
    }
  } finally {
    await store.close();
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Value of an unlabelled (or exactly labelled) sample in Prometheus text. */
export function sample(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ')) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

export async function startDaemon(o: {
  files?: FixtureFile[];
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  /** wait until the RAM-tier files are resident */
  waitRam?: boolean;
} = {}): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-daemon-'));
  const files = o.files ?? [];
  const ssdBytes = files.filter((f) => f.tier !== 'hdd').reduce((a, f) => a + f.bytes, 0);
  const settings: Record<string, unknown> = {
    listen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    adminToken: ADMIN_TOKEN,
    tokenKeys: { [KID]: SECRET },
    storage: [
      { path: join(dir, 'ssd'), type: 'ssd', maxBytes: ssdBytes + 1024 },
      { path: join(dir, 'hdd'), type: 'hdd' },
    ],
    stateDir: join(dir, 'state'),
    ramTierBytes: 16 * 1024 * 1024,
    workers: 2,
    // no background rebalance during a test: tiers stay where the fixture put them
    storeTuning: { rebalanceIntervalMs: 3_600_000, reserveBytes: 0 },
    logLevel: 'info',
    ...o.settings,
  };
  const published = await publish(dir, files, settings);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(settings));
  const child = spawn(process.execPath, [MAIN, '--config', configPath], {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        stdout.push(line);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'ready') resolve({ port: j.listen.port, adminPort: j.admin.port });
        } catch {
          // not JSON: keep it for the failure message
        }
      }
    });
    child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    void exited.then((code) => reject(new Error(`daemon exited (${code}) before ready: ${stderr.join('')}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const { port, adminPort } = await ready.finally(() => clearTimeout(timeout));
  const d: Daemon = {
    dir,
    child,
    port,
    adminPort,
    origin: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${adminPort}`,
    files: published,
    stdout,
    stderr,
    exited,
    token: (t = {}) =>
      signToken({ kid: KID, secret: SECRET, exp: Math.floor(Date.now() / 1000) + 600, title: 't1', ...t }),
    adminFetch: (path, init = {}) =>
      fetch(d.admin + path, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers } }),
    metrics: async () => (await fetch(d.admin + '/metrics')).text(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const code = await exited;
        clearTimeout(t);
        rmSync(dir, { recursive: true, force: true });
        return code;
      }
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
  if (o.waitRam) {
    const want = files.filter((f) => f.tier === 'ram').reduce((a, f) => a + f.bytes, 0);
    const deadline = Date.now() + 20_000;
    while ((sample(await d.metrics(), 'edgebox_ram_tier_bytes') ?? 0) < want) {
      if (Date.now() > deadline) {
        await d.stop();
        throw new Error('RAM tier never filled');
      }
      await sleep(100);
    }
  }
  return d;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One request over a fresh socket, path sent exactly as given (fetch would normalise `..` and
 * percent-escapes away). Reads until the server closes (the request says Connection: close).
 */
export async function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { connect } = await import('node:net');
  const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(lines.join('\r\n') + '\r\n\r\n'));
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP response: ${all.toString().slice(0, 200)}`));
      const head = all.subarray(0, end).toString().split('\r\n');
      const out: Record<string, string> = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        out[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(head[0].split(' ')[1]), headers: out, body: all.subarray(end + 4) });
    });
  });
}

/** A response body as loosely typed JSON, for assertions. */
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}
