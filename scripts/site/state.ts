// The dev site's state under .data/ (git-ignored): secrets generated once and reused, so URLs
// printed by one run keep working after a restart, and a directory per component.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stablePort } from '../lib/stable-port.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SiteSecrets {
  /** URL-token key id and secret shared by control (signing) and the appliances (verifying) */
  tokenKid: string;
  tokenSecret: string;
  /** the appliances' admin API */
  adminToken: string;
  /** control's operator and packager APIs */
  operatorToken: string;
  packagerToken: string;
  /** control's key-encryption key for title keys (64 hex digits) */
  kek: string;
}

/** the site's id in control */
export const SITE_ID = 'site1';

function newSecrets(): SiteSecrets {
  return {
    tokenKid: 'site1',
    tokenSecret: randomBytes(32).toString('base64url'),
    adminToken: randomBytes(24).toString('base64url'),
    operatorToken: randomBytes(24).toString('base64url'),
    packagerToken: randomBytes(24).toString('base64url'),
    kek: randomBytes(32).toString('hex'),
  };
}

export interface SiteState {
  dir: string;
  secrets: SiteSecrets;
  /** a one-time token for this run, configured in control, that appliances enroll with; an
   *  appliance already enrolled at the same control URL keeps its stored credential instead */
  enrollmentToken: string;
  /** the origin's store and control's title-ingest directory: the packager's defaults
   *  (.data/origin, .data/control-ingest) for the default site, so `npm run package` output is
   *  what the site serves; inside the site directory otherwise (tests) */
  originStore: string;
  ingestDir: string;
  /** a component's own directory, created on demand */
  componentDir(name: string): string;
  /** a loopback port for `name`, the same as last run when it is still free */
  port(name: string): Promise<number>;
}

export function openSiteState(dir = resolve(REPO_ROOT, '.data/site')): SiteState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'secrets.json');
  const fresh = newSecrets();
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<SiteSecrets>) : {};
  // keep what an earlier run generated; add what a newer site needs
  const secrets: SiteSecrets = { ...fresh, ...stored };
  if (Object.keys(secrets).some((k) => !(k in stored))) {
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  const isDefault = dir === resolve(REPO_ROOT, '.data/site');
  const shared = (name: string) => {
    const d = isDefault ? resolve(REPO_ROOT, '.data', name) : join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  return {
    dir,
    secrets,
    enrollmentToken: randomBytes(24).toString('base64url'),
    originStore: shared('origin'),
    ingestDir: shared('control-ingest'),
    port: (name: string) => stablePort(join(dir, 'ports.json'), name),
    componentDir(name: string) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      return d;
    },
  };
}
