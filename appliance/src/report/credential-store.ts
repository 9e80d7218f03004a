// The credential control hands out at enrollment, kept in the state dir so a restart does not
// need (and cannot reuse) the one-time enrollment token. Written atomically, readable by us only.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { readStateJson, writeStateJson } from './state-file.ts';

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
  load(): Promise<StoredCredential | null> {
    return readStateJson(this.file, StoredCredential);
  }

  save(c: StoredCredential): Promise<void> {
    return writeStateJson(this.file, c);
  }

  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
