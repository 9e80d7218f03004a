// Where the served certificate comes from, and noticing when it changes: control's copy in the
// state dir (control-copy.ts) when there is one — so a fleet renews in one place — else the
// files named by tls.certFile / tls.keyFile. Changes are found by polling stat() of all three
// paths (size, mtime, inode; through symlinks, so certbot's symlink swap counts): cheap, and it
// works where inotify does not (bind mounts, network filesystems, a replaced directory).

import { readFile, stat } from 'node:fs/promises';
import type { CertificateMaterial } from './cipher-policy.ts';
import { readControlCopy } from './control-copy.ts';

export type CertificateOrigin = 'control' | 'files';

export interface SourcePaths {
  controlCopy: string;
  /** '' = not configured */
  certFile: string;
  keyFile: string;
}

/** The pair from one source; null when that source is absent (no copy yet, files not configured). */
export async function readSource(origin: CertificateOrigin, p: SourcePaths): Promise<CertificateMaterial | null> {
  if (origin === 'control') return readControlCopy(p.controlCopy);
  if (p.certFile === '' || p.keyFile === '') return null;
  const [certPem, keyPem] = await Promise.all([readFile(p.certFile, 'utf8'), readFile(p.keyFile, 'utf8')]);
  return { certPem, keyPem };
}

/** Sources in order of preference. */
export const ORIGINS: readonly CertificateOrigin[] = ['control', 'files'];

async function signatureOf(path: string): Promise<string> {
  if (path === '') return '-';
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

/** A value that changes whenever any of the source files does. */
export async function sourceSignature(p: SourcePaths): Promise<string> {
  return (await Promise.all([p.controlCopy, p.certFile, p.keyFile].map(signatureOf))).join('|');
}
