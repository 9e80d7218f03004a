// edgebox-update.service: the Updater with the box's real disks, control credential, daemon and
// clock. Runs as root (it writes a slot partition and the EFI partition, and reboots).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CredentialStore } from '../../appliance/src/report/credential-store.ts';
import { announce } from '../first-boot/console.ts';
import { ADMIN_LISTEN, PATHS } from '../first-boot/paths.ts';
import { checkSiteConfig } from '../first-boot/site-config.ts';
import { currentSlot, imageVersion, partitionByLabel } from '../first-boot/system.ts';
import type { Slot } from './boot-entries.ts';
import { Updater } from './updater.ts';

const pexec = promisify(execFile);

async function partuuidOf(slot: Slot): Promise<{ device: string; partuuid: string }> {
  const p = partitionByLabel(`edgebox-root-${slot}`);
  const t = JSON.parse((await pexec('sfdisk', ['--json', p.disk])).stdout) as { partitiontable: { partitions: { node: string; uuid: string }[] } };
  const part = t.partitiontable.partitions.find((x) => x.node === p.device);
  if (!part) throw new Error(`no partition ${p.device} on ${p.disk}`);
  return { device: p.device, partuuid: part.uuid.toLowerCase() };
}

async function main(): Promise<void> {
  const site = checkSiteConfig(JSON.parse(readFileSync(PATHS.siteConfig, 'utf8')));
  if (!site.ok) throw new Error(`site config: ${site.errors.join('; ')}`);
  const creds = new CredentialStore(PATHS.state);
  const u = new Updater({
    slot: currentSlot(),
    version: imageVersion(),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    paths: { esp: PATHS.esp, state: PATHS.updateState, downloads: PATHS.updateDownloads, turnupNow: PATHS.turnupNow },
    keys: JSON.parse(readFileSync(PATHS.imageKeys, 'utf8')) as Record<string, string>,
    settings: site.config.update,
    credential: async () => {
      const c = await creds.load();
      return c && c.controlUrl === site.config.controlUrl ? c : null;
    },
    daemonHealth: async () => {
      try {
        const r = await fetch(`http://${ADMIN_LISTEN}/v1/health`, { signal: AbortSignal.timeout(3_000) });
        return (await r.json()) as { status: string; reasons: string[] };
      } catch {
        return null;
      }
    },
    daemonUnit: async () => {
      try {
        const unit = 'edgebox-appliance.service';
        const show = (await pexec('systemctl', ['show', unit, '-p', 'ActiveState,NRestarts,ExecMainStatus'])).stdout;
        const v = Object.fromEntries(show.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
        // its own output only (-u would also match systemd's lines about the unit)
        const last = (await pexec('journalctl', ['-b', `_SYSTEMD_UNIT=${unit}`, '-n', '1', '-o', 'cat', '--no-pager']).catch(() => ({ stdout: '' }))).stdout.trim();
        return { failed: v.ActiveState === 'failed', restarts: Number(v.NRestarts) || 0, exitStatus: Number(v.ExecMainStatus) || 0, lastLine: last.slice(0, 300) };
      } catch {
        return null;
      }
    },
    slotDevice: partuuidOf,
    stopDaemon: async () => { await pexec('systemctl', ['stop', 'edgebox-appliance.service']); },
    reboot: async () => { await pexec('systemctl', ['reboot']); await new Promise(() => {}); },
    say: (l) => announce(l),
    polled: async (s) => {
      await mkdir(PATHS.run, { recursive: true });
      await writeFile(PATHS.updateNow, JSON.stringify({ at: Date.now(), state: s.status?.state ?? 'idle', targetVersion: s.status?.targetVersion ?? null }) + '\n');
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  if ((await u.settle()) === 'trial') await u.runTrial();
  for (;;) {
    const wait = await u.pollOnce();
    await new Promise((r) => setTimeout(r, wait));
  }
}

main().catch((e: unknown) => {
  announce(`edgebox update: ${(e as Error).message}`);
  process.exit(1);
});
