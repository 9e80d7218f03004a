// The key that signs update bundles. A release build names its key file with
// EDGEBOX_IMAGE_SIGNING_KEY (kept in the release engineer's secret store, never in the repo).
// Without it the build makes a development key in image/.keys/ (git-ignored) on first use and
// reuses it, so images built on one machine accept that machine's bundles and no one else's.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateImageSigningKey, type ImageSigningKey } from '../../protocol/index.ts';

export const DEV_KEY_FILE = join(fileURLToPath(new URL('..', import.meta.url)), '.keys', 'dev-signing-key.json');

export interface LoadedKey { key: ImageSigningKey; file: string; generated: boolean; dev: boolean }

export async function loadSigningKey(env: NodeJS.ProcessEnv = process.env): Promise<LoadedKey> {
  const release = env.EDGEBOX_IMAGE_SIGNING_KEY;
  const file = release ?? DEV_KEY_FILE;
  if (!existsSync(file)) {
    if (release) throw new Error(`EDGEBOX_IMAGE_SIGNING_KEY: ${release} does not exist`);
    const key = generateImageSigningKey(`dev-${Math.random().toString(36).slice(2, 10)}`);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify(key, null, 2) + '\n', { mode: 0o600 });
    return { key, file, generated: true, dev: true };
  }
  const key = JSON.parse(await readFile(file, 'utf8')) as ImageSigningKey;
  if (!key.kid || !key.x || !key.d) throw new Error(`${file}: not an image signing key ({kid, x, d})`);
  return { key, file, generated: false, dev: !release };
}
