// Starts real routers (BIRD 2, GoBGP) on loopback for the BGP tests, each in its own temp dir
// with a config the test writes, and stops them. Also: free ports and a polling wait.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { z } from 'zod';
import { BgpSettings, type NeighborSettings } from '../../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../../src/bgp/speaker.ts';

const exec = promisify(execFile);

export async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A random 127.x.y.z address (not .0/.255, not 127.0.0.1) so parallel tests do not collide. */
export function loopbackPair(): [string, string] {
  const x = 10 + Math.floor(Math.random() * 200);
  const y = 1 + Math.floor(Math.random() * 250);
  return [`127.${x}.${y}.1`, `127.${x}.${y}.2`];
}

export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface Router {
  dir: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

async function launch(cmd: string, args: string[], dir: string): Promise<Router> {
  const proc = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out = (out + d).slice(-20000); });
  proc.stderr!.on('data', (d) => { out = (out + d).slice(-20000); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    dir, proc, output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try { process.kill(proc.pid!, 'SIGCONT'); } catch { /* gone */ }
        proc.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Bird extends Router { birdc: (cmd: string) => Promise<string> }

export async function startBird(config: string): Promise<Bird> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-bird-'));
  await writeFile(path.join(dir, 'bird.conf'), config);
  const sock = path.join(dir, 'bird.ctl');
  const r = await launch('/usr/sbin/bird', ['-f', '-c', path.join(dir, 'bird.conf'), '-s', sock, '-P', path.join(dir, 'bird.pid')], dir);
  const birdc = async (cmd: string) => (await exec('/usr/sbin/birdc', ['-s', sock, ...cmd.split(' ')])).stdout;
  await waitFor('bird control socket', () => r.proc.exitCode !== null ? (() => { throw new Error(`bird exited: ${r.output()}`); })() : null, 300).catch(() => {});
  const deadline = Date.now() + 10000;
  for (;;) {
    try { await birdc('show status'); break; } catch (e) {
      if (r.proc.exitCode !== null || Date.now() > deadline) { await r.stop(); throw new Error(`bird did not start: ${r.output()} ${e}`); }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return { ...r, birdc };
}

export interface Gobgp extends Router { gobgp: (args: string[]) => Promise<string> }

export async function startGobgp(configToml: string): Promise<Gobgp> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgebox-gobgp-'));
  const file = path.join(dir, 'gobgpd.toml');
  await writeFile(file, configToml);
  const api = await freePort('127.0.0.1');
  const r = await launch('/usr/bin/gobgpd', ['-f', file, '-t', 'toml', '--api-hosts', `127.0.0.1:${api}`, '--pprof-disable', '-p'], dir);
  const gobgp = async (args: string[]) => (await exec('/usr/bin/gobgp', ['-u', '127.0.0.1', '-p', String(api), ...args])).stdout;
  const deadline = Date.now() + 10000;
  for (;;) {
    try { await gobgp(['global']); break; } catch (e) {
      if (r.proc.exitCode !== null || Date.now() > deadline) { await r.stop(); throw new Error(`gobgpd did not start: ${r.output()} ${e}`); }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return { ...r, gobgp };
}

/**
 * Our speaker (AS 64512, router id 10.255.0.2) with one neighbor at AS 65001, dialling it with a
 * 1 s connect-retry unless the neighbor says otherwise; its stop is pushed onto the test's
 * cleanups. Not started: some tests attach listeners or take a heap reading first.
 */
export function speakerFacing(
  neighbor: Omit<z.input<typeof NeighborSettings>, 'peerAsn'>,
  cleanups: (() => Promise<void>)[],
): BgpSpeaker {
  const speaker = new BgpSpeaker(BgpSettings.parse({
    localAsn: 64512, routerId: '10.255.0.2',
    neighbors: [{ peerAsn: 65001, connectRetry: 1, ...neighbor }],
  }));
  cleanups.push(() => speaker.stop());
  return speaker;
}
