// One appliance of a cluster (cluster.ts): its config written once (ports, store, the one-time
// enrollment token minted for it through the operator API), the daemon started as a child, and a
// wait until control has a report from it. It can be stopped, killed and started again at the
// same address; a restart keeps its store and the credential it stored at enrollment.

import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startAppliance, writeApplianceConfig, type ApplianceConfig, type RunningAppliance } from './appliance.ts';
import { FillManifest, fillManifestPath } from '../../protocol/index.ts';
import type { ClusterSecrets } from './cluster.ts';
import type { ControlApi, ListedAppliance } from './control-api.ts';

export interface ApplianceSpec {
  /** daemon settings over the launcher's (appliance/src/daemon/settings.ts), e.g. `storage`, `fill` */
  settings?: Record<string, unknown>;
  /** the URL it enrolls with, which control hands to viewers and peers (default: its own);
   *  e.g. a proxy in front of it */
  publicUrl?: (ownOrigin: string) => string | Promise<string>;
  /** runs after the config is written and before the daemon first starts (e.g. to publish files) */
  beforeStart?: (config: ApplianceConfig) => Promise<void>;
}

export interface ClusterApplianceInit {
  name: string;
  siteId: string;
  /** index within its site, 0-based */
  index: number;
  dir: string;
  api: ControlApi;
  secrets: ClusterSecrets;
  controlUrl: string;
  port: (name: string) => Promise<number>;
  spec: ApplianceSpec;
  onOutput?: (chunk: string) => void;
  reportTimeoutMs: number;
}

/** What the reporter stores at enrollment (appliance/src/report/credential-store.ts). */
export interface StoredCredential {
  applianceId: string;
  siteId: string;
  credential: string;
  controlUrl: string;
}

export class ClusterAppliance {
  readonly name: string;
  readonly siteId: string;
  readonly index: number;
  readonly dir: string;
  /** set once the config is written */
  config!: ApplianceConfig;
  /** the URL it enrolled with (its own origin unless spec.publicUrl says otherwise) */
  publicUrl = '';
  /** control's id for it, known after its first report */
  applianceId = '';
  #init: ClusterApplianceInit;
  #running: RunningAppliance | undefined;
  #log: WriteStream | undefined;

  constructor(init: ClusterApplianceInit) {
    this.#init = init;
    this.name = init.name;
    this.siteId = init.siteId;
    this.index = init.index;
    this.dir = init.dir;
  }

  /** serving origin, e.g. http://127.0.0.1:40123 (the daemon's own, not a proxy's) */
  get origin(): string { return `http://${this.config.listen}`; }
  get adminOrigin(): string { return `http://${this.config.adminListen}`; }
  get storeRoot(): string { return this.config.storeRoot; }
  get running(): boolean { return this.#running !== undefined; }
  /** pid of the daemon while it runs */
  get pid(): number | undefined { return this.#running?.pid; }
  /** the last few KiB of its output */
  output(): string { return this.#running?.child.output() ?? ''; }
  get logPath(): string { return join(this.dir, 'appliance.log'); }

  /** Start the daemon (writing its config the first time) and wait for its first report. */
  async start(): Promise<void> {
    if (this.#running) return;
    const i = this.#init;
    if (!this.config) await this.#writeConfig();
    // enrolled with this control in an earlier run (the dev site's kept state): the daemon keeps
    // its stored credential, so its reports come under that id
    if (!this.applianceId) {
      const cred = await this.credential();
      if (cred?.controlUrl === i.controlUrl) this.applianceId = cred.applianceId;
    }
    // a report from this run is one control received after the last one it has now
    const since = this.applianceId ? ((await this.listed())?.lastReportAt ?? 0) + 1 : 0;
    const log = (this.#log = createWriteStream(this.logPath, { flags: 'a' }));
    this.#running = await startAppliance(this.config, {
      onOutput: (s) => {
        log.write(s);
        i.onOutput?.(s);
      },
      readyTimeoutMs: 120_000,
    }).catch((e: unknown) => {
      log.end();
      throw e;
    });
    await this.waitReported(since, i.reportTimeoutMs);
  }

  async #writeConfig(): Promise<void> {
    const i = this.#init;
    const listenPort = await i.port(i.name);
    const adminPort = await i.port(`${i.name}-admin`);
    const own = `http://127.0.0.1:${listenPort}`;
    this.publicUrl = i.spec.publicUrl ? await i.spec.publicUrl(own) : own;
    const enrollmentToken = await i.api.enrollmentToken(i.siteId);
    const { report, ...rest } = (i.spec.settings ?? {}) as { report?: Record<string, unknown> };
    this.config = await writeApplianceConfig({
      dir: i.dir,
      applianceId: i.name,
      ports: { listen: listenPort, admin: adminPort },
      tokenKeys: { [i.secrets.tokenKid]: i.secrets.tokenSecret },
      adminToken: i.secrets.adminToken,
      extra: {
        // small and quiet: a cluster shares a small machine
        workers: 1,
        ramTierBytes: 16 * 1024 * 1024,
        capacityBps: 10e9,
        logLevel: 'info',
        controlUrl: i.controlUrl,
        ...rest,
        report: { enrollmentToken, name: i.name, publicUrl: this.publicUrl, siteId: i.siteId, ...report },
      },
    });
    // a storage override moves the store: keep storeRoot pointing at the first root
    const storage = this.config.settings.storage as Array<{ path: string }>;
    if (storage[0]?.path) this.config.storeRoot = storage[0].path;
    await i.spec.beforeStart?.(this.config);
  }

  /** SIGTERM (drain) and wait for the exit. */
  async stop(): Promise<void> {
    const r = this.#running;
    this.#running = undefined;
    await r?.stop();
    this.#log?.end();
  }

  /** SIGKILL: no drain, no goodbye, as a power cut. */
  async kill(): Promise<void> {
    const r = this.#running;
    this.#running = undefined;
    if (!r) return;
    r.child.proc.kill('SIGKILL');
    await r.child.exited;
    this.#log?.end();
  }

  /** The credential the daemon stored at enrollment (null before it enrolled). */
  async credential(): Promise<StoredCredential | null> {
    try {
      return JSON.parse(await readFile(join(this.config.stateDir, 'control-credential.json'), 'utf8')) as StoredCredential;
    } catch {
      return null;
    }
  }

  /** How control lists it now (undefined before it enrolled). */
  async listed(): Promise<ListedAppliance | undefined> {
    const all = await this.#init.api.appliances();
    return all.find((a) => (this.applianceId ? a.applianceId === this.applianceId : a.name === this.name));
  }

  /** Wait until control holds a report from it received at or after `sinceMs` (control's clock). */
  async waitReported(sinceMs = 0, timeoutMs = 60_000): Promise<ListedAppliance> {
    const deadline = Date.now() + timeoutMs;
    let last: ListedAppliance | undefined;
    while (Date.now() < deadline) {
      if (this.#running && this.#running.child.proc.exitCode !== null) {
        throw new Error(`${this.name} exited before reporting:\n${this.output()}`);
      }
      // its id is the one in the credential it stores for this control (a new one if control
      // forgot the old credential and it enrolled again)
      const cred = await this.credential();
      if (cred && cred.controlUrl === this.#init.controlUrl && cred.applianceId !== this.applianceId) this.applianceId = cred.applianceId;
      last = await this.listed().catch(() => undefined);
      if (last && last.lastReportAt !== null && last.lastReportAt >= sinceMs) {
        this.applianceId = last.applianceId;
        return last;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.name}: no report reached control within ${timeoutMs} ms (listed: ${JSON.stringify(last)}):\n${this.output()}`);
  }

  /** A call on its admin address (Bearer adminToken). */
  async admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
    const res = await fetch(this.adminOrigin + path, {
      method,
      headers: {
        authorization: `Bearer ${this.#init.secrets.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: any;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: res.status, body: parsed, text };
  }

  /** fileIds in its store, from the admin API. */
  async files(): Promise<string[]> {
    const r = await this.admin<any>('GET', '/v1/admin/files');
    if (r.status !== 200) throw new Error(`${this.name}: GET /v1/admin/files answered ${r.status}: ${r.text.slice(0, 300)}`);
    const list: Array<{ fileId: string }> = r.body.files;
    return list.map((f) => f.fileId).sort();
  }

  /** Its current fill manifest, fetched from control with its own credential; null while control
   *  has no plan for it (404). */
  async fillManifest(): Promise<FillManifest | null> {
    const cred = await this.credential();
    if (!cred) return null;
    const res = await fetch(this.#init.controlUrl + fillManifestPath(cred.applianceId), {
      headers: { authorization: `Bearer ${cred.credential}` },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`${this.name}: fill manifest answered ${res.status}: ${text.slice(0, 300)}`);
    return FillManifest.parse(JSON.parse(text));
  }

  /** GET /v1/status on its admin address. */
  async status(): Promise<any> {
    const r = await this.admin('GET', '/v1/status');
    return r.body;
  }

  /** Its Prometheus text. */
  async metrics(): Promise<string> {
    const res = await fetch(`${this.adminOrigin}/metrics`, { signal: AbortSignal.timeout(15_000) });
    return res.text();
  }
}
