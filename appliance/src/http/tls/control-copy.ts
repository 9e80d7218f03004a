// The certificate control handed over on the report link, kept in the state dir so a restart
// serves it before control is reachable. Certificate and key are one file (JSON), written to a
// temp file, flushed, renamed and the directory synced: a reader sees the old pair or the new
// pair, never a new certificate with the old key. Readable by the daemon's user only.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../../store/atomic-write.ts';
import type { CertificateMaterial } from './cipher-policy.ts';

export function controlCopyPath(stateDir: string): string {
  return join(stateDir, 'tls', 'control-certificate.json');
}

/** The stored pair, or null when control never sent one. Throws (with the path) on a damaged file. */
export async function readControlCopy(file: string): Promise<CertificateMaterial | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const { certPem, keyPem } = (j ?? {}) as Partial<CertificateMaterial>;
  if (typeof certPem !== 'string' || typeof keyPem !== 'string') throw new Error(`${file} lacks certPem/keyPem`);
  return { certPem, keyPem };
}

export async function writeControlCopy(file: string, m: CertificateMaterial): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify({ certPem: m.certPem, keyPem: m.keyPem }), { mode: 0o600, flush: true });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}
