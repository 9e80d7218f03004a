// The certificate control handed over on the report link, kept in the state dir so a restart
// serves it before control is reachable. Certificate and key are one file (the reporter's
// state-file JSON: temp file, flush, rename; here also the directory synced), so a reader sees
// the old pair or the new pair, never a new certificate with the old key. Readable by the
// daemon's user only. A torn or hand-edited file reads as absent: the configured files serve.

import { join } from 'node:path';
import { z } from 'zod';
import { readStateJson, writeStateJson } from '../../report/state-file.ts';
import { fsyncDir } from '../../store/atomic-write.ts';
import type { CertificateMaterial } from './cipher-policy.ts';

const StoredPair = z.object({ certPem: z.string().min(1), keyPem: z.string().min(1) });

export function controlCopyPath(stateDir: string): string {
  return join(stateDir, 'tls', 'control-certificate.json');
}

/** The stored pair, or null when control never sent one (or the file is not one). */
export function readControlCopy(file: string): Promise<CertificateMaterial | null> {
  return readStateJson(file, StoredPair);
}

export async function writeControlCopy(file: string, m: CertificateMaterial): Promise<void> {
  await writeStateJson(file, { certPem: m.certPem, keyPem: m.keyPem });
  await fsyncDir(join(file, '..'));
}
