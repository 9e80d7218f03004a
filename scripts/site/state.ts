// The dev site's state under .data/ (git-ignored): secrets generated once and reused, so URLs
// printed by one run keep working after a restart, and a directory per component.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SiteSecrets {
  /** URL-token key id and secret shared by control (signing) and the appliances (verifying) */
  tokenKid: string;
  tokenSecret: string;
  adminToken: string;
}

export interface SiteState {
  dir: string;
  secrets: SiteSecrets;
  /** a component's own directory, created on demand */
  componentDir(name: string): string;
}

export function openSiteState(dir = resolve(REPO_ROOT, '.data/site')): SiteState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'secrets.json');
  let secrets: SiteSecrets;
  if (existsSync(file)) {
    secrets = JSON.parse(readFileSync(file, 'utf8')) as SiteSecrets;
  } else {
    secrets = {
      tokenKid: 'site1',
      tokenSecret: randomBytes(32).toString('base64url'),
      adminToken: randomBytes(24).toString('base64url'),
    };
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    dir,
    secrets,
    componentDir(name: string) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      return d;
    },
  };
}
