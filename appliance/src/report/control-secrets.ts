// What control tells the box over its report channel that must outlive a restart (protocol
// appliance-secrets.ts): the URL-token keys to accept, and whether an operator revoked the box's
// credential. Both live in the state dir, written atomically and readable by us only, beside the
// credential (credential-store.ts; state-file.ts writes them all).
//
// Keys: once control has sent a set, that set is what the box accepts (the configured tokenKeys
// only bootstrap a box that never heard from control), so a key control dropped after a rotation
// is refused here too. Kept on disk so a restart while control is away still accepts the keys of
// the sessions it is serving.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TokenKeySet } from '../../../protocol/index.ts';
import { readStateJson as readJson, writeStateJson as writeJson } from './state-file.ts';

export const TOKEN_KEYS_FILE = 'url-token-keys.json';
export const REVOKED_FILE = 'control-credential-revoked.json';

const Revoked = z.object({ applianceId: z.string(), at: z.number() });
export type Revoked = z.infer<typeof Revoked>;

/** The key set control last sent, or null (then the configured tokenKeys apply). */
export function loadTokenKeys(stateDir: string): Promise<TokenKeySet | null> {
  return readJson(path.join(stateDir, TOKEN_KEYS_FILE), TokenKeySet);
}

export class ControlSecrets {
  readonly #dir: string;
  #keys: TokenKeySet | null = null;
  #revoked: Revoked | null = null;
  #loaded = false;

  constructor(stateDir: string) { this.#dir = stateDir; }

  async load(): Promise<void> {
    if (this.#loaded) return;
    this.#keys = await loadTokenKeys(this.#dir);
    this.#revoked = await readJson(path.join(this.#dir, REVOKED_FILE), Revoked);
    this.#loaded = true;
  }

  /** the version to name in reports (absent until control sent a set) */
  get tokenKeysVersion(): string | undefined { return this.#keys?.version; }
  get revoked(): Revoked | null { return this.#revoked; }

  /** Keep a set control sent (on disk first, so a restart accepts what the workers accept). */
  async acceptKeys(set: TokenKeySet): Promise<void> {
    await writeJson(path.join(this.#dir, TOKEN_KEYS_FILE), set);
    this.#keys = set;
  }

  async markRevoked(r: Revoked): Promise<void> {
    this.#revoked = r;
    await writeJson(path.join(this.#dir, REVOKED_FILE), r);
  }

  async clearRevoked(): Promise<void> {
    this.#revoked = null;
    await rm(path.join(this.#dir, REVOKED_FILE), { force: true });
  }
}
