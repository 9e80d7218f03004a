// edgebox-setup.service, every boot before the network: make sure the box has its site config
// (kept on /data; from edgebox.json on the EFI partition, else asked at the console), grow this
// slot's root filesystem to its partition (the data partition grew before it was mounted:
// edgebox-grow-data.service), and render this boot's network, DNS, NTP and daemon config.

import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { announce } from './console.ts';
import { PATHS, DAEMON_USER } from './paths.ts';
import { askSiteConfig } from './prompts.ts';
import { applianceConfig, chronySources, networkFile, resolvConf, type Secrets } from './render.ts';
import { checkSiteConfig, type SiteConfig } from './site-config.ts';
import { cmdlineArg, partitionOf, sh } from './system.ts';

async function writeAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode, flush: true });
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

async function siteConfig(): Promise<SiteConfig> {
  if (existsSync(PATHS.siteConfig)) {
    const c = checkSiteConfig(await readJson(PATHS.siteConfig).catch(() => null));
    if (c.ok) return c.config;
    announce(['edgebox: the saved site config is unreadable; asking again', ...c.errors.map((e) => `  ${e}`)]);
  }
  if (existsSync(PATHS.unattended)) {
    let json: unknown = null;
    let errors: string[];
    try {
      json = await readJson(PATHS.unattended);
      const c = checkSiteConfig(json);
      if (c.ok) {
        await writeAtomic(PATHS.siteConfig, JSON.stringify(c.config, null, 2) + '\n', 0o600);
        // it holds the enrollment token and URL-token keys: do not leave them on the FAT partition
        await rm(PATHS.unattended, { force: true });
        announce(`edgebox: site config taken from edgebox.json on the EFI partition (${c.config.name})`);
        return c.config;
      }
      errors = c.errors;
    } catch (e) {
      errors = [`not valid JSON: ${(e as Error).message}`];
    }
    announce(['edgebox: edgebox.json on the EFI partition was not accepted:', ...errors.map((e) => `  ${e}`), 'edgebox: asking at the console instead.']);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    const { config } = await askSiteConfig({ ask: (q) => rl.question(q), say: (l) => process.stdout.write(`${l}\n`) });
    await writeAtomic(PATHS.siteConfig, JSON.stringify(config, null, 2) + '\n', 0o600);
    return config;
  } finally {
    rl.close();
  }
}

async function secrets(): Promise<Secrets> {
  try {
    const s = (await readJson(PATHS.secrets)) as Secrets;
    if (typeof s.adminToken === 'string' && s.adminToken.length >= 32) return s;
  } catch { /* first boot */ }
  const s = { adminToken: randomBytes(32).toString('base64url') };
  await writeAtomic(PATHS.secrets, JSON.stringify(s) + '\n', 0o600);
  return s;
}

/** "auto": the first physical Ethernet port, preferring one with a link. */
function resolveInterface(want: string): string {
  if (want !== 'auto') return want;
  const nics = readdirSync('/sys/class/net').filter((n) => existsSync(`/sys/class/net/${n}/device`)
    && readFileSync(`/sys/class/net/${n}/type`, 'utf8').trim() === '1').sort();
  const carrier = (n: string) => { try { return readFileSync(`/sys/class/net/${n}/carrier`, 'utf8').trim() === '1'; } catch { return false; } };
  return nics.find(carrier) ?? nics[0] ?? 'eth0';
}

/** This slot's root filesystem is made small; give it its whole partition. */
async function growRoot(): Promise<void> {
  const uuid = cmdlineArg('root')?.replace(/^PARTUUID=/, '');
  if (!uuid) return;
  const dev = partitionOf(`/dev/disk/by-partuuid/${uuid}`);
  const blocks = /Block count:\s+(\d+)/.exec(await sh('dumpe2fs', ['-h', dev.device]).catch(() => ''))?.[1];
  const size = Number(readFileSync(`/sys/class/block/${dev.device.split('/').pop()}/size`, 'utf8').trim()) * 512;
  if (blocks && Number(blocks) * 4096 < size - 64 * 2 ** 20) await sh('resize2fs', [dev.device]);
}

async function main(): Promise<void> {
  const uid = Number((await sh('id', ['-u', DAEMON_USER])).trim());
  const gid = Number((await sh('id', ['-g', DAEMON_USER])).trim());
  for (const d of [PATHS.store, PATHS.state]) {
    await mkdir(d, { recursive: true });
    chownSync(d, uid, gid);
    await chmod(d, 0o750);
  }
  await mkdir(dirname(PATHS.siteConfig), { recursive: true, mode: 0o700 });
  const config = await siteConfig();
  await growRoot().catch((e: unknown) => announce(`edgebox: could not grow the root filesystem: ${(e as Error).message.split('\n')[0]}`));
  const iface = resolveInterface(config.interface);
  await writeAtomic(PATHS.network, networkFile(config, iface));
  await writeAtomic(PATHS.iface, `${iface}\n`);
  await writeAtomic(PATHS.resolvConf, resolvConf(config));
  await writeAtomic(PATHS.chronySources, chronySources(config));
  const daemon = applianceConfig(config, await secrets());
  await writeAtomic(PATHS.applianceConfig, JSON.stringify(daemon, null, 2) + '\n', 0o640);
  chownSync(PATHS.applianceConfig, 0, gid);
  await writeFile('/proc/sys/kernel/hostname', config.name).catch(() => {});
  announce(`edgebox: ${config.name} on ${iface}: ${config.ipv4.address}${config.ipv6 ? ` ${config.ipv6.address}` : ''}, control ${config.controlUrl}`);
}

main().catch((e: unknown) => {
  announce(`edgebox: setup failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
