// The Debian part of the root filesystem: mmdebstrap (minbase + PACKAGES, Debian 12 with its
// security updates) and a customize hook (sources, the daemon's user, pruned kernel modules, the
// initramfs with the boot-once hook). Cached as a tarball keyed by packages.ts's baseKey, so a
// second build skips the download and the install; with no cache it is built from scratch.

import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.ts';
import { BASE_FILES, baseKey, mirrors, PACKAGES, PRUNED_MODULES, SUITE } from './packages.ts';
import type { Progress } from './progress.ts';

export const DEFAULT_CACHE_DIR = '/var/cache/edgebox-image';

export interface BaseResult {
  key: string;
  tarball: string;
  cached: boolean;
}

/** The cached base tarball for the current package list, building it when absent. */
export async function ensureBase(cacheDir: string, progress: Progress): Promise<BaseResult> {
  const key = baseKey();
  const tarball = join(cacheDir, `base-${SUITE}-${key}.tar`);
  if (existsSync(tarball)) {
    progress.step('base', `cached (${tarball})`);
    return { key, tarball, cached: true };
  }
  progress.step('base', `mmdebstrap ${SUITE} minbase + ${PACKAGES.length} packages (no cache for key ${key})`);
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${tarball}.${process.pid}.tmp.tar`;
  try {
    await run('mmdebstrap', [
      '--variant=minbase', '--mode=root', '--format=tar',
      `--include=${PACKAGES.join(',')}`,
      '--aptopt=APT::Install-Recommends "false"',
      '--aptopt=Acquire::Languages "none"',
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      '--dpkgopt=path-exclude=/usr/share/info/*',
      `--essential-hook=sh ${BASE_FILES.essential} "$1"`,
      `--customize-hook=sh ${BASE_FILES.customize} "$1" '${PRUNED_MODULES.join(' ')}' ${BASE_FILES.bootOnce}`,
      SUITE, tmp, ...mirrors(),
    ], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    await rename(tmp, tarball);
  } finally {
    await rm(tmp, { force: true });
  }
  return { key, tarball, cached: false };
}

/** Unpack the base into an empty directory (ownership and modes as in the tarball). */
export async function unpackBase(tarball: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('tar', ['-xf', tarball, '-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*']);
}
