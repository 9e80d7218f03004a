// A real PostgreSQL for tests, from Debian's package (scripts/setup/debian-packages.txt): a fresh
// cluster from initdb in a temporary directory, on its own port and unix-socket directory, run as
// the `postgres` user when the tests run as root (initdb and postgres refuse root). Missing
// PostgreSQL is an error, never a skip. Each test file starts one cluster and makes a database
// per use (`database()`); `stop()` shuts the server down and removes the directory.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** a new, empty database on the cluster; its connection URL (over the unix socket) */
  database(): Promise<string>;
  stop(): Promise<void>;
}

function binDir(): string {
  // Debian keeps the server programs out of PATH, under /usr/lib/postgresql/<major>/bin.
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const m of majors) if (existsSync(join(root, m, 'bin', 'initdb'))) return join(root, m, 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  throw new Error('PostgreSQL is not installed (no initdb): apt-get install postgresql (scripts/setup/debian-packages.txt)');
}

/** uid/gid to run the server as: `postgres` when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u'), g = id('-g');
  if (u.status !== 0) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (apt-get install postgresql creates it)');
  return { uid: Number(u.stdout), gid: Number(g.stdout) };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-pg-'));
  const data = join(dir, 'data'), sock = join(dir, 'sock');
  mkdirSync(sock);
  if (user) for (const p of [dir, sock]) chownSync(p, user.uid, user.gid);
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'edgebox', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    encoding: 'utf8', ...user,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  // Durability settings off: a test cluster is thrown away, and fsync would cost the shared machine.
  const server: ChildProcess = spawn(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=', '-c', 'fsync=off',
    '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ], { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  let log = '';
  server.stderr!.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const url = (db: string) => `postgresql://edgebox@localhost/${db}?host=${encodeURIComponent(sock)}&port=${port}`;

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT'); // fast shutdown: disconnects clients
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  let admin: pg.Client;
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) {
      await stop();
      throw new Error(`postgres exited at start: ${log}`);
    }
    admin = new pg.Client({ connectionString: url('postgres') });
    try {
      await admin.connect();
      break;
    } catch (err) {
      // the server is still starting (no socket yet, or "the database system is starting up")
      if (i >= 300) {
        await stop();
        throw new Error(`postgres did not accept connections: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let n = 0;
  return {
    async database() {
      const name = `t${++n}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      await admin.end().catch(() => {});
      await stop();
    },
  };
}

export type StoreOverrides = { database?: { kind: 'postgres'; url: string; poolSize: number } };

/**
 * For a control test run on each store (describe.each over `list`): settings overrides for
 * SQLite (none: the default) and for PostgreSQL (a fresh database on a cluster started on first
 * use, one per test file). Call `stop()` in the file's afterAll.
 */
export function eachStore(): { list: Array<[string, () => Promise<StoreOverrides>]>; stop(): Promise<void> } {
  let cluster: Promise<TestPostgres> | undefined;
  return {
    list: [
      ['sqlite', async () => ({})],
      ['postgres', async () => {
        cluster ??= startPostgres();
        return { database: { kind: 'postgres', url: await (await cluster).database(), poolSize: 10 } };
      }],
    ],
    async stop() { await (await cluster)?.stop(); },
  };
}
