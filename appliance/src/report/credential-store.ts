// The credential control hands out at enrollment, kept in the state dir so a restart does not
// need (and cannot reuse) the one-time enrollment token. Written atomically, readable by us only.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const StoredCredential = z.object({
  controlUrl: z.string(),
  applianceId: z.string().min(1),
  siteId: z.string(),
  credential: z.string().min(1),
  reportIntervalMs: z.number().int().positive(),
});
export type StoredCredential = z.infer<typeof StoredCredential>;

export const CREDENTIAL_FILE = 'control-credential.json';

export class CredentialStore {
  readonly file: string;
  constructor(stateDir: string) {
    this.file = path.join(stateDir, CREDENTIAL_FILE);
  }

  /** The stored credential, or null when there is none (or it is unreadable: re-enroll). */
  async load(): Promise<StoredCredential | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null; // a torn or hand-edited file: treat as absent
    }
    const parsed = StoredCredential.safeParse(json);
    return parsed.success ? parsed.data : null;
  }

  async save(c: StoredCredential): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(c, null, 2), { mode: 0o600, flush: true });
    await rename(tmp, this.file);
  }

  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
