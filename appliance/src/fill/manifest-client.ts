// Getting the fill manifest from control: `GET /v1/appliances/:id/fill-manifest` with the
// credential the reporter enrolled for (read from the state dir, so fill needs nothing from the
// reporter but the file), `If-None-Match` with the version held, the answer checked against
// protocol's schema. The last good manifest is kept in `<stateDir>/fill-manifest.json` so a box
// restarted while control is away still knows what to hold and where from.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { fillManifestPath, FillManifest } from '../../../protocol/index.ts';
import { ControlCallError } from '../report/control-client.ts';
import { CredentialStore } from '../report/credential-store.ts';

export const MANIFEST_FILE = 'fill-manifest.json';

export type ManifestAnswer =
  | { kind: 'manifest'; manifest: FillManifest }
  | { kind: 'not-modified' }
  /** control has no plan for this appliance yet (404) */
  | { kind: 'no-plan' }
  /** not enrolled yet (the reporter enrolls; fill waits for its credential) */
  | { kind: 'no-credential' };

export class ManifestClient {
  readonly #controlUrl: string;
  readonly #credentials: CredentialStore;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher | undefined;

  constructor(o: { controlUrl: string; stateDir: string; timeoutMs: number; dispatcher?: Dispatcher }) {
    this.#controlUrl = o.controlUrl;
    this.#credentials = new CredentialStore(o.stateDir);
    this.#timeoutMs = o.timeoutMs;
    this.#dispatcher = o.dispatcher;
  }

  /** Fetch the manifest unless `heldVersion` is still current. Throws ControlCallError. */
  async fetch(heldVersion: string | null): Promise<ManifestAnswer> {
    const cred = await this.#credentials.load();
    if (!cred || cred.controlUrl !== this.#controlUrl) return { kind: 'no-credential' };
    const url = new URL(fillManifestPath(cred.applianceId), this.#controlUrl).href;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        dispatcher: this.#dispatcher,
        headers: { authorization: `Bearer ${cred.credential}`, ...(heldVersion ? { 'if-none-match': `"${heldVersion}"` } : {}) },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (e) {
      throw new ControlCallError(0, 'unreachable', `${url}: ${(e as Error).message}`);
    }
    if (res.statusCode === 304) {
      await res.body.dump();
      return { kind: 'not-modified' };
    }
    const text = await res.body.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.statusCode === 404) return { kind: 'no-plan' };
    if (res.statusCode !== 200) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ControlCallError(res.statusCode, err?.code ?? 'http_error', `${url}: ${res.statusCode} ${err?.message ?? text.slice(0, 200)}`);
    }
    const parsed = FillManifest.safeParse(json);
    if (!parsed.success) {
      throw new ControlCallError(502, 'bad_reply', `fill manifest does not match the protocol: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
    }
    if (parsed.data.applianceId !== cred.applianceId) {
      throw new ControlCallError(502, 'bad_reply', `fill manifest is for ${parsed.data.applianceId}, not ${cred.applianceId}`);
    }
    return { kind: 'manifest', manifest: parsed.data };
  }
}

/** The last good manifest on disk; null when there is none or it does not parse. */
export async function loadSavedManifest(stateDir: string): Promise<FillManifest | null> {
  let text: string;
  try {
    text = await readFile(join(stateDir, MANIFEST_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = FillManifest.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function saveManifest(stateDir: string, m: FillManifest): Promise<void> {
  const file = join(stateDir, MANIFEST_FILE);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  // it holds the peer token: ours only
  await writeFile(tmp, JSON.stringify(m), { mode: 0o600, flush: true });
  await rename(tmp, file);
}
