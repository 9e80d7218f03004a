// The dev site's state under .data/ (git-ignored), kept between runs so a second `npm start`
// reuses what the first made: secrets (generated once), ports (the same when still free), the
// cluster's directory (control's database, the appliances' stores and credentials), the packaged
// sample title and the demo account.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newSecrets, type ClusterSecrets } from '../lib/cluster.ts';
import { stablePort, stablePortInfo, type StablePort } from '../lib/stable-port.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_SITE_DIR = resolve(REPO_ROOT, '.data/site');

/** bumped when the directory's layout changes; an older directory is moved aside, not mixed in */
const LAYOUT = 2;

export interface SiteState {
  dir: string;
  secrets: ClusterSecrets;
  /** the cluster launcher's directory: control, the origin's log, one directory per appliance */
  clusterDir: string;
  /** false when control's database is new this run (a fresh site: nothing registered yet) */
  controlKnown: boolean;
  /** the origin's store and control's ingest directory: the packager's defaults (.data/origin,
   *  .data/control-ingest) for the default site, so what `npm run package` publishes is what the
   *  site serves; inside the site directory otherwise (tests) */
  originStore: string;
  ingestDir: string;
  /** a directory of the site's own, created on demand */
  path(...parts: string[]): string;
  /** a port on `host` for `name`, the same as last run when it is still free */
  port(name: string, host?: string): Promise<number>;
  /** the same, saying whether it moved from last run's */
  portInfo(name: string, host?: string): Promise<StablePort>;
  /** one of the site's small JSON files (undefined when absent or unreadable) */
  readJson<T>(name: string): T | undefined;
  writeJson(name: string, value: unknown): void;
  /** a line for the user when an older site directory was moved aside */
  notice?: string;
}

export function openSiteState(dir = DEFAULT_SITE_DIR): SiteState {
  let notice: string | undefined;
  const layoutFile = join(dir, 'layout.json');
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(layoutFile)) {
    const aside = `${dir}.old-${Date.now()}`;
    renameSync(dir, aside);
    notice = `site: an older site directory was moved aside to ${aside}`;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(layoutFile)) writeFileSync(layoutFile, `${JSON.stringify({ layout: LAYOUT })}\n`);

  const readJson = <T>(name: string): T | undefined => {
    try {
      return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
    } catch {
      return undefined;
    }
  };
  const writeJson = (name: string, value: unknown) =>
    writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });

  // keep what an earlier run generated; add what a newer site needs
  const stored = readJson<Partial<ClusterSecrets>>('secrets.json') ?? {};
  const secrets: ClusterSecrets = { ...newSecrets(), ...stored };
  if (Object.keys(secrets).some((k) => !(k in stored))) writeJson('secrets.json', secrets);

  const isDefault = resolve(dir) === DEFAULT_SITE_DIR;
  const shared = (name: string) => {
    const d = isDefault ? resolve(REPO_ROOT, '.data', name) : join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const clusterDir = join(dir, 'cluster');
  return {
    dir,
    secrets,
    clusterDir,
    controlKnown: existsSync(join(clusterDir, 'control', 'control.db')),
    originStore: shared('origin'),
    ingestDir: shared('control-ingest'),
    path(...parts: string[]) {
      const d = join(dir, ...parts);
      mkdirSync(d, { recursive: true });
      return d;
    },
    port: (name: string, host = '127.0.0.1') => stablePort(join(dir, 'ports.json'), name, host),
    portInfo: (name: string, host = '127.0.0.1') => stablePortInfo(join(dir, 'ports.json'), name, host),
    readJson,
    writeJson,
    notice,
  };
}
