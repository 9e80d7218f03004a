// Getting the fill manifest from control: `GET /v1/appliances/:id/fill-manifest` with the
// credential the reporter enrolled for (read from the state dir, so fill needs nothing from the
// reporter but the file), `If-None-Match` with the version held, the answer checked against
// protocol's schema. The last good manifest is kept in `<stateDir>/fill-manifest.json` so a box
// restarted while control is away still knows what to hold and where from.

import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { fillManifestPath, FillManifest } from '../../../protocol/index.ts';
import { ControlCallError } from '../report/control-client.ts';
import { CredentialStore } from '../report/credential-store.ts';
import { readStateJson, writeStateJson } from '../report/state-file.ts';

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

/** The last good manifest on disk; null when there is none, it cannot be read or does not parse. */
export async function loadSavedManifest(stateDir: string): Promise<FillManifest | null> {
  return readStateJson(join(stateDir, MANIFEST_FILE), FillManifest).catch(() => null);
}

/** Written atomically and readable by us only: it holds the peer token. */
export async function saveManifest(stateDir: string, m: FillManifest): Promise<void> {
  await writeStateJson(join(stateDir, MANIFEST_FILE), m);
}
