// edgebox-console.service: once the box has settled on this boot (turn-up done, the daemon
// answering or turn-up failing, the updater idle after a poll of control), print its status on
// the console between EDGEBOX-STATUS-BEGIN/END lines: version and slot, turn-up result, the
// daemon's /v1/health, the tuning in force, the data partition, the update state and how long the
// boot took (systemd-analyze: its stages and slowest units). With
// edgebox/smoke on the EFI partition (CI's smoke test) it then powers the box off.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { announce } from './console.ts';
import { ADMIN_LISTEN, PATHS } from './paths.ts';
import { currentSlot, imageVersion } from './system.ts';

const pexec = promisify(execFile);

export const SYSCTLS = [
  'net.core.default_qdisc', 'net.ipv4.tcp_congestion_control', 'net.core.somaxconn', 'net.core.rmem_max', 'net.core.wmem_max',
  'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', 'net.ipv4.ip_local_port_range', 'net.core.netdev_max_backlog', 'fs.file-max', 'fs.nr_open',
];

function readJson(path: string): Record<string, unknown> | null {
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch { return null; }
}

async function health(): Promise<unknown> {
  try {
    const r = await fetch(`http://${ADMIN_LISTEN}/v1/health`, { signal: AbortSignal.timeout(3_000) });
    return { http: r.status, ...(await r.json()) as object };
  } catch {
    return null;
  }
}

async function daemonLimits(): Promise<string> {
  try {
    return (await pexec('systemctl', ['show', 'edgebox-appliance.service', '-p', 'LimitNOFILE', '-p', 'MemoryMax', '-p', 'User', '-p', 'AmbientCapabilities'])).stdout.trim().split('\n').join(' ');
  } catch {
    return '';
  }
}

/** How long this boot took (kernel, initramfs, userspace) and its slowest units, for whoever reads the console. */
async function bootTimes(): Promise<string[]> {
  const out = async (args: string[]) => (await pexec('systemd-analyze', args).catch(() => ({ stdout: '' }))).stdout.trim();
  const time = (await out(['time'])).split('\n')[0] ?? '';
  const blame = (await out(['blame', '--no-pager'])).split('\n').slice(0, 8).map((l) => l.trim().replace(/\s+/, ' ')).join(', ');
  return [`boot ${time.replace(/^Startup finished in /, '')}`, `slowest ${blame}`];
}

async function main(): Promise<void> {
  const started = Date.now();
  let healthySince: number | null = null;
  for (;;) {
    const turnup = readJson(PATHS.turnupNow);
    const h = turnup?.passed ? await health() : null;
    if (h && healthySince === null) healthySince = Date.now();
    const upd = readJson(PATHS.updateNow);
    const updaterIdle = upd !== null && ['idle', 'rolled-back', 'failed', 'waiting-window'].includes(String(upd.state))
      && Number(upd.at) > (healthySince ?? started);
    // a box whose turn-up keeps failing still shows (and, under the smoke test, ends) eventually;
    // each failed round is on the console already
    const turnupFailedLong = turnup !== null && !turnup.passed && Date.now() - started > 10 * 60_000;
    if ((h && updaterIdle) || turnupFailedLong) break;
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const fs = await statfs(PATHS.data);
  const lines = [
    // an empty line first: the serial getty's "login:" prompt (no newline) may be on the console
    // already, and the block must start on a line of its own (the image test reads it by line)
    '',
    'EDGEBOX-STATUS-BEGIN',
    `version ${imageVersion()} slot ${currentSlot()}`,
    `turnup ${JSON.stringify(readJson(PATHS.turnupNow))}`,
    `health ${JSON.stringify(await health())}`,
    ...SYSCTLS.map((k) => `sysctl ${k}=${readFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, 'utf8').trim().replace(/\s+/g, ' ')}`),
    `daemon ${await daemonLimits()}`,
    `data ${((fs.blocks * fs.bsize) / 2 ** 20).toFixed(0)} MiB`,
    `update ${JSON.stringify(readJson(PATHS.updateState))}`,
    ...await bootTimes(),
    'EDGEBOX-STATUS-END',
  ];
  announce(lines);
  if (existsSync(PATHS.smokeFlag)) {
    announce('edgebox: smoke test flag present: powering off');
    await pexec('systemctl', ['poweroff']);
  }
}

main().catch((e: unknown) => {
  announce(`edgebox console: ${(e as Error).message}`);
  process.exit(1);
});
