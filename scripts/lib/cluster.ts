// A whole Edgebox deployment on loopback, as real child processes: the packager's origin, control,
// and sites of appliances, each appliance enrolled through control's operator API with its own
// one-time token and reporting to control. For the integration tests, the benches and the dev
// site's multi-appliance mode.
//
//   const c = await startCluster({ dir, sites: [{ siteId: 'lon-1', kind: 'embedded', region: 'eu', appliances: 3 }] });
//   c.appliances[0].origin; c.control.api.op('GET', '/v1/appliances'); …; await c.stop();
//
// Every process logs to a file in its directory (origin/origin.log, control/control.log,
// <appliance>/appliance.log); a failed start quotes the tail of the log. stop() stops appliances
// first, then control, then the origin, and is safe to call twice.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generatePeerSigningKey, type PeerSigningKey } from '../../protocol/index.ts';
import { freePort } from './free-port.ts';
import { ControlApi, type SiteBody } from './control-api.ts';
import { startService, type RunningService } from './service.ts';
import { ClusterAppliance, type ApplianceSpec } from './cluster-appliance.ts';

export { ClusterAppliance, type ApplianceSpec } from './cluster-appliance.ts';

export interface ClusterSecrets {
  /** URL-token key id and secret: control signs, appliances and the origin verify */
  tokenKid: string;
  tokenSecret: string;
  /** the appliances' admin API */
  adminToken: string;
  operatorToken: string;
  packagerToken: string;
  /** control's key-encryption key (64 hex digits) */
  kek: string;
  /** control's Ed25519 peer-token signing key; the origin gets its public half, so it accepts
   *  fill requests only with a peer token control issued */
  peerSigningKey: PeerSigningKey;
}

export function newSecrets(): ClusterSecrets {
  return {
    tokenKid: 'k1',
    tokenSecret: randomBytes(32).toString('base64url'),
    adminToken: randomBytes(24).toString('base64url'),
    operatorToken: randomBytes(24).toString('base64url'),
    packagerToken: randomBytes(24).toString('base64url'),
    kek: randomBytes(32).toString('hex'),
    peerSigningKey: generatePeerSigningKey('cluster'),
  };
}

/** Where a cluster in `dir` keeps things, known before it starts (e.g. to write the origin's files first). */
export function clusterPaths(dir: string): { originStore: string } {
  return { originStore: join(dir, 'origin', 'store') };
}

export interface SiteSpec extends Omit<SiteBody, 'timeZone'> {
  siteId: string;
  /** default UTC */
  timeZone?: string;
  /** how many appliances to start in the site (more can join later with addAppliance) */
  appliances: number;
}

export interface ClusterOptions {
  /** everything the cluster writes goes under here (stores, databases, configs, logs) */
  dir: string;
  /** the origin's store, if not clusterPaths(dir).originStore (the dev site shares the packager's) */
  originStore?: string;
  sites: SiteSpec[];
  secrets?: Partial<ClusterSecrets>;
  /** control settings over the launcher's defaults (control/src/settings.ts) */
  control?: Record<string, unknown>;
  /** the origin URL control lists (e.g. a counting proxy in front of the origin) */
  originUrlFor?: (originUrl: string) => string | Promise<string>;
  /** per-appliance settings and hooks, by site and index within the site (0-based) */
  appliance?: (siteId: string, index: number) => ApplianceSpec | undefined;
  /** settings every appliance gets (under the per-appliance ones) */
  applianceDefaults?: Record<string, unknown>;
  /** a loopback port for a named process; free ports by default (the dev site keeps them stable) */
  port?: (name: string) => Promise<number>;
  /** every chunk any process writes, with its name (e.g. to echo with --verbose) */
  onOutput?: (name: string, chunk: string) => void;
  /** how long to wait for each appliance's first report; default 120 s (loaded test machines) */
  reportTimeoutMs?: number;
}

export interface Cluster {
  dir: string;
  secrets: ClusterSecrets;
  origin: RunningService & { store: string };
  /** the URL control lists as the origin (originUrlFor's answer, or the origin's own) */
  originUrl: string;
  control: RunningService & { api: ControlApi };
  /** every appliance started so far, in start order */
  appliances: ClusterAppliance[];
  site(siteId: string): ClusterAppliance[];
  /** start one more appliance in an existing site, enroll it and wait for its first report */
  addAppliance(siteId: string, spec?: ApplianceSpec): Promise<ClusterAppliance>;
  /** create (or change) a site through the operator API */
  putSite(spec: Omit<SiteSpec, 'appliances'>): Promise<void>;
  stop(): Promise<void>;
}

/** Control's settings for a cluster: quick reports, patient staleness (loaded test machines). */
function controlConfig(o: ClusterOptions, s: ClusterSecrets, port: number, originUrl: string, dir: string): Record<string, unknown> {
  return {
    publicUrl: `http://127.0.0.1:${port}`,
    originUrl,
    dbPath: join(dir, 'control.db'),
    logLevel: 'info',
    operatorToken: s.operatorToken,
    packagerToken: s.packagerToken,
    urlTokenKid: s.tokenKid,
    urlTokenSecret: s.tokenSecret,
    kek: s.kek,
    peerSigningKey: s.peerSigningKey,
    reportIntervalMs: 1_000,
    staleIntervals: 15,
    ...o.control,
  };
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const secrets: ClusterSecrets = { ...newSecrets(), ...o.secrets };
  const port = o.port ?? (() => freePort());
  const onOutput = (name: string) => (o.onOutput ? (s: string) => o.onOutput!(name, s) : undefined);
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    // appliances together (they are independent), then control, then the origin
    const apps = started.filter((x) => x instanceof ClusterAppliance);
    await Promise.allSettled(apps.map((a) => a.stop()));
    for (const x of started.filter((x) => !(x instanceof ClusterAppliance)).reverse()) await x.stop().catch(() => {});
  };
  try {
    const originDir = join(o.dir, 'origin');
    const store = o.originStore ?? clusterPaths(o.dir).originStore;
    mkdirSync(store, { recursive: true });
    const origin = await startService({
      name: 'origin', main: 'packager/origin.ts', configArgs: (p) => ['--config', p], dir: originDir, port: await port('origin'),
      config: {
        store, logLevel: 'info',
        urlTokenKeys: { [secrets.tokenKid]: secrets.tokenSecret },
        peerPublicKeys: { [secrets.peerSigningKey.kid]: secrets.peerSigningKey.x },
      },
      onOutput: onOutput('origin'),
    });
    started.push(origin);
    const originUrl = o.originUrlFor ? await o.originUrlFor(origin.url) : origin.url;

    const controlDir = join(o.dir, 'control');
    const controlPort = await port('control');
    const control = await startService({
      name: 'control', main: 'control/main.ts', configArgs: (p) => [p], dir: controlDir, port: controlPort,
      config: controlConfig(o, secrets, controlPort, originUrl, controlDir),
      onOutput: onOutput('control'),
    });
    started.push(control);
    const api = new ControlApi(control.url, secrets);

    const appliances: ClusterAppliance[] = [];
    const perSite = new Map<string, number>();
    const putSite = async (spec: Omit<SiteSpec, 'appliances'>) => {
      const { siteId, appliances: _n, timeZone, ...body } = spec as SiteSpec;
      await api.putSite(siteId, { ...body, timeZone: timeZone ?? 'UTC' } as SiteBody);
      if (!perSite.has(siteId)) perSite.set(siteId, 0);
    };
    const addAppliance = async (siteId: string, spec?: ApplianceSpec) => {
      if (!perSite.has(siteId)) throw new Error(`cluster: no site ${siteId}`);
      const index = perSite.get(siteId)!;
      perSite.set(siteId, index + 1);
      const name = `${siteId}-${index + 1}`;
      const a = new ClusterAppliance({
        name, siteId, index, dir: join(o.dir, name), api, secrets, controlUrl: control.url,
        port, spec: { ...spec, settings: { ...o.applianceDefaults, ...spec?.settings } },
        onOutput: onOutput(name), reportTimeoutMs: o.reportTimeoutMs ?? 120_000,
      });
      started.push(a);
      appliances.push(a);
      await a.start();
      return a;
    };
    for (const s of o.sites) await putSite(s);
    // all appliances of all sites start together; each waits for its own first report
    await Promise.all(o.sites.flatMap((s) =>
      Array.from({ length: s.appliances }, (_, i) => addAppliance(s.siteId, o.appliance?.(s.siteId, i)))));

    let stopped: Promise<void> | undefined;
    return {
      dir: o.dir,
      secrets,
      origin: Object.assign(origin, { store }),
      originUrl,
      control: Object.assign(control, { api }),
      appliances,
      site: (siteId) => appliances.filter((a) => a.siteId === siteId),
      addAppliance,
      putSite,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
