// The appliance daemon's main thread: probe the hardware, open the store, start the serving
// workers on the public port and the admin server on its own address, keep health and load
// current, and drain on request. `Daemon.snapshot()` is the one call the control reporter needs.

import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { FillManifest } from '../../../protocol/index.ts';
import type { FillHandle } from '../fill/fill-handle.ts';
import { MissCoalescer } from '../fill/miss-coalescer.ts';
import { loadTokenKeys } from '../report/control-secrets.ts';
import type { ControlContact } from '../report/reporter.ts';
import { openStore, type Store } from '../store/store.ts';
import { createAdminServer } from './admin-server.ts';
import { assessHealth, controlAway, type Health } from './health.ts';
import { setUpHttps, type Https } from './https.ts';
import { LoadMeter } from './load-meter.ts';
import { DaemonMetrics } from './metrics.ts';
import { diskConcurrency, probeHardware, type Probe } from './probe.ts';
import { splitHostPort, type ApplianceSettings } from './settings.ts';
import type { DaemonService, RunningService } from './services.ts';
import { buildSnapshot, tierUsage, type ApplianceSnapshot } from './snapshot.ts';
import { WorkerPool } from './worker-pool.ts';
import type { WorkerInit } from '../http/worker-messages.ts';

const TICK_MS = 1_000;
export const SOFTWARE_VERSION = '0.1.0';

function listen(server: Server | NetServer, host: string, port: number, reusePort = false): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, reusePort }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export class Daemon {
  readonly settings: ApplianceSettings;
  readonly probe: Probe;
  readonly store: Store;
  readonly log: Logger;
  readonly startedAt = Date.now();
  /** the bound addresses (port 0 in the settings resolved) */
  publicAddress = { host: '', port: 0 };
  adminAddress = { host: '', port: 0 };
  /** HTTPS (http/tls/): certificate, ticket keys, the bound address; null when tls.mode is off */
  https: Https | null = null;
  /** fill (appliance/src/fill/): set by the fill service when it starts; null without control */
  fill: FillHandle | null = null;
  #pool!: WorkerPool;
  #misses!: MissCoalescer;
  #admin!: Server;
  #metrics = new DaemonMetrics();
  #load: LoadMeter;
  #health: Health = { status: 'ok', reasons: [] };
  #draining = false;
  #controlDrain = false;
  /** the URL-token keys the workers accept: control's set once it sent one, else the configured ones */
  #tokenKeys: Record<string, string>;
  #credentialRevoked = false;
  /** control's reachability after the reporter's last cycle; null before it (or without control) */
  #control: ControlContact | null = null;
  #refusingViewers = false;
  #ticker: NodeJS.Timeout | undefined;
  #services: { name: string; running: RunningService }[] = [];
  #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(settings: ApplianceSettings, probe: Probe, store: Store, log: Logger) {
    this.settings = settings;
    this.#tokenKeys = settings.tokenKeys;
    this.#load = new LoadMeter(Date.now, settings.loadCpu);
    this.probe = probe;
    this.store = store;
    this.log = log;
    this.#done = new Promise((r) => (this.#resolveDone = r));
  }

  /** Resolves when a drain has finished and everything is closed. */
  get done(): Promise<void> {
    return this.#done;
  }

  get draining(): boolean {
    return this.#draining;
  }

  readonly softwareVersion = SOFTWARE_VERSION;

  /** the main thread's registry: services register their series here; /metrics includes it */
  get metricsRegistry(): Registry {
    return this.#metrics.registry;
  }

  /** Control asked for (or lifted) a drain: keep serving, report draining so steering avoids us. */
  setControlDrain(drain: boolean): void {
    if (drain === this.#controlDrain) return;
    this.#controlDrain = drain;
    this.log.info({ drain }, drain ? 'control requested a drain' : 'control lifted its drain');
    this.#tick();
  }

  /** Control's URL-token key set (a rotation): workers accept exactly these from now on (restarted ones too). */
  setTokenKeys(keys: Record<string, string>): void {
    this.#tokenKeys = keys;
    this.#pool?.post({ type: 'token-keys', keys });
    this.#tick();
  }

  /** An operator revoked (or a new enrollment replaced) the box's control credential: said in health. */
  setCredentialRevoked(revoked: boolean): void {
    if (revoked === this.#credentialRevoked) return;
    this.#credentialRevoked = revoked;
    this.#tick();
  }

  /**
   * The reporter's view of control after each cycle. While control does not answer, scheduled fill
   * pauses (the plan may be stale, and control cannot hear what was filled) and viewers are still
   * served: their tokens are valid. Once it has not answered for controlAwayMaxMs, viewers are
   * refused (503 control_unreachable) and health is failing, until it answers again.
   */
  setControlContact(c: ControlContact): void {
    this.#control = c;
    this.#tick();
  }

  health(): Health {
    return this.#health;
  }

  /** For the control reporter: health, load, tier usage and inventory, as of now. */
  snapshot(): ApplianceSnapshot {
    return buildSnapshot({
      applianceId: this.settings.applianceId,
      health: this.#health,
      draining: this.#draining || this.#controlDrain,
      load: this.#load.load,
      capacityBps: this.probe.capacityBps,
      usage: this.store.usage(),
      fileIds: this.store.snapshot().map((f) => f.fileId),
      fill: this.fill?.report(),
      tls: this.https?.keeper.report(),
    });
  }

  status(): unknown {
    const s = this.settings;
    return {
      applianceId: s.applianceId,
      softwareVersion: SOFTWARE_VERSION,
      startedAt: new Date(this.startedAt).toISOString(),
      listen: this.publicAddress,
      admin: this.adminAddress,
      draining: this.#draining,
      health: this.#health,
      hardware: this.probe,
      workers: { wanted: this.#pool.wanted, alive: this.#pool.alive },
      storeRoots: this.store.roots.map((r) => ({
        path: r.path,
        tier: r.tier,
        reason: r.reason,
        ioConcurrency: diskConcurrency(r.tier, this.settings),
      })),
      usage: this.store.usage(),
      load: this.#load.load,
      fill: this.fill?.status() ?? null,
      control: this.#control && { ...this.#control, refusingViewers: this.#refusingViewers },
    };
  }

  async start(services: readonly DaemonService[] = []): Promise<void> {
    const s = this.settings;
    const pub = splitHostPort(s.listen);
    // keys control sent before a restart beat the configured ones (control-secrets.ts)
    this.#tokenKeys = (await loadTokenKeys(s.stateDir))?.keys ?? s.tokenKeys;
    // port 0: reserve a free port with a reusePort socket the workers can join, then let go of it
    let placeholder: NetServer | undefined;
    if (pub.port === 0) {
      placeholder = createNetServer((sock) => sock.destroy());
      pub.port = (await listen(placeholder, pub.host, 0, true)).port;
    }
    this.publicAddress = pub;
    this.https = await setUpHttps(s, pub, this.log, {
      material: (material) => this.#pool?.post({ type: 'tls:certificate', material }),
      ticketKeys: (keys) => this.#pool?.post({ type: 'tls:tickets', keys }),
    });
    let tlsPlaceholder: NetServer | undefined;
    if (this.https && !this.https.only && this.https.address.port === 0) {
      tlsPlaceholder = createNetServer((sock) => sock.destroy());
      this.https.address.port = (await listen(tlsPlaceholder, this.https.address.host, 0, true)).port;
    }
    this.https?.setBoundPort(this.https.address.port);
    if (this.https) this.https.keeper.registerMetrics(this.#metrics.registry);
    const count = this.probe.workers;
    const reads = { ssd: 0, hdd: 0 };
    for (const r of this.store.roots) reads[r.tier] += diskConcurrency(r.tier, s);
    const init = (index: number): WorkerInit => ({
      index,
      host: pub.host,
      port: pub.port,
      limits: {
        headersTimeoutMs: s.headersTimeoutMs,
        requestTimeoutMs: s.requestTimeoutMs,
        keepAliveTimeoutMs: s.keepAliveTimeoutMs,
        maxRequestsPerSocket: s.maxRequestsPerSocket,
        maxConnections: Math.max(1, Math.floor(s.maxConnections / count)),
        maxHeaderSize: s.maxHeaderSize,
        socketIdleTimeoutMs: s.socketIdleTimeoutMs,
      },
      tokenKeys: this.#tokenKeys,
      maxRanges: s.maxRanges,
      cacheMaxAgeSec: s.cacheMaxAgeSec,
      diskReads: { ssd: Math.max(1, Math.ceil(reads.ssd / count)), hdd: Math.max(1, Math.ceil(reads.hdd / count)) },
      ...(this.https ? { tls: this.https.workerTls() } : {}),
    });
    this.#misses = new MissCoalescer({
      fill: () => this.fill,
      held: (fileId) => this.store.get(fileId) !== undefined,
      post: (i, m) => this.#pool.post(m, i),
      log: this.log,
    });
    this.#pool = new WorkerPool({
      count,
      init,
      attach: (w) => this.store.attachWorker(w),
      onStats: (i, m) => this.#load.report(i, m),
      onExit: (i) => {
        this.#load.forget(i);
        this.#misses.forget(i);
      },
      onDiskError: (fileId, message, code) => {
        this.store.noteReadError(fileId, code);
        this.#verifyAfterError(fileId, message);
      },
      onMissAsk: (i, id, fileId) => this.#misses.ask(i, id, fileId),
      onRestart: () => this.#metrics.workerRestarts.inc(),
      restartMinMs: s.workerRestartMinMs,
      restartMaxMs: s.workerRestartMaxMs,
      log: this.log,
    });
    try {
      await this.#pool.start();
    } finally {
      placeholder?.close();
      tlsPlaceholder?.close();
    }

    this.#admin = createAdminServer(s.adminToken, {
      metrics: async () => {
        const workers = await this.#pool.collectMetrics();
        const usage = this.store.usage();
        return this.#metrics.render(workers, {
          store: usage.counters,
          tiers: tierUsage(usage),
          workersAlive: this.#pool.alive,
          draining: this.#draining,
          health: this.#health.status,
          drives: this.store.roots.map((r) => ({ root: r.path, tier: r.tier, failed: r.failed !== null })),
        });
      },
      health: () => this.#health,
      status: () => this.status(),
      snapshot: () => this.snapshot(),
      drain: (reason) => void this.drain(reason),
      setPopularity: (ranks) => this.store.setPopularity(ranks),
      files: () => this.store.list(),
      usage: () => this.store.usage(),
      crashWorker: s.faultInjection ? (i) => this.#pool.post({ type: 'fault:crash' }, i) : undefined,
    });
    const adm = splitHostPort(s.adminListen);
    const bound = await listen(this.#admin, adm.host, adm.port);
    this.adminAddress = { host: adm.host, port: bound.port };

    this.#tick();
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    for (const svc of services) {
      this.#services.push({ name: svc.name, running: await svc.start(this) });
      this.log.info({ service: svc.name }, 'service started');
    }
    this.#servePeersFromManifests();
    // warm the RAM tier with what is already popular now rather than at the first rebalance
    this.store.tick().catch((err: unknown) => this.log.error({ err }, 'store: first tick failed'));
    // always written, whatever the log level: supervisors and tests read the bound ports from it
    this.log.child({}, { level: 'info' }).info(
      { listen: this.publicAddress, admin: this.adminAddress, tls: this.https?.address ?? null, workers: count, faultInjection: s.faultInjection },
      'ready',
    );
  }

  /** Peer keys, site and peer rate reach the workers from every manifest fill takes on. */
  #servePeersFromManifests(): void {
    const fill = this.fill;
    if (!fill) return;
    const apply = (m: FillManifest): void =>
      this.#pool.setPeerServing({ siteId: m.siteId, publicKeys: m.peer.publicKeys, rateBps: m.peerServeRateBps });
    if (fill.manifest) apply(fill.manifest);
    fill.on('manifest', apply);
  }

  #verifying = new Set<string>();

  /** A worker could not read a file: re-hash it; the store quarantines a copy that fails. */
  #verifyAfterError(fileId: string, message: string): void {
    if (this.#verifying.has(fileId) || this.#draining) return;
    this.#verifying.add(fileId);
    this.log.warn({ fileId, error: message }, 'disk read failed while serving; verifying the file');
    this.store
      .verify(fileId)
      .then((ok) => {
        if (ok === false) this.log.error({ fileId }, 'file failed verification: quarantined');
      })
      .catch((err: unknown) => this.log.error({ err, fileId }, 'verify failed'))
      .finally(() => this.#verifying.delete(fileId));
  }

  #applyControlContact(): void {
    const c = this.#control;
    const max = this.settings.controlAwayMaxMs;
    const { pauseFill, refuseViewers: refuse } = controlAway(c, Date.now(), max);
    if (refuse !== this.#refusingViewers) {
      this.#refusingViewers = refuse;
      if (refuse) this.log.error({ lastContactAt: new Date(c!.lastContactAt).toISOString(), controlAwayMaxMs: max }, 'control away too long: refusing viewers');
      else this.log.info('control answers again: serving viewers');
      this.#pool.setViewerRefusal(refuse
        ? { code: 'control_unreachable', message: 'this appliance has lost its control plane; use the next URL' }
        : null);
    }
    this.fill?.setPaused(pauseFill);
  }

  #tick(): void {
    this.#applyControlContact();
    const load = this.#load.sample();
    const usage = this.store.usage();
    const next = assessHealth({
      workersWanted: this.#pool.wanted,
      workersAlive: this.#pool.alive,
      draining: this.#draining,
      controlDrain: this.#controlDrain,
      tokenKeys: Object.keys(this.#tokenKeys).length,
      credentialRevoked: this.#credentialRevoked,
      recentDiskErrors: load.recentDiskErrors,
      storeFiles: usage.ssd.files + usage.hdd.files,
      badRoots: [...usage.ssd.roots, ...usage.hdd.roots].filter((r) => r.size === 0 && r.failed === null).map((r) => r.path),
      failedDrives: this.store.failedDrives().map((d) => `${d.root} (${d.reason})`),
      control: this.#control ? { ...this.#control, refusingViewers: this.#refusingViewers } : undefined,
      fillBlocked: this.fill?.healthReason() ?? null,
      tlsProblems: this.https?.keeper.problems() ?? [],
    });
    if (this.https) next.tls = this.https.keeper.health();
    if (next.status !== this.#health.status || next.reasons.join('\n') !== this.#health.reasons.join('\n')
      || JSON.stringify(next.tls) !== JSON.stringify(this.#health.tls)) {
      if (next.status !== this.#health.status) this.log.info({ health: next }, 'health changed');
      this.#health = next;
      this.#pool.setHealth(next);
    }
  }

  /**
   * Stop accepting, let in-flight responses finish within drainTimeoutMs, then close the store
   * and the admin server. Idempotent; `done` resolves when it is over.
   */
  async drain(reason: string): Promise<void> {
    if (this.#draining) return this.#done;
    this.#draining = true;
    this.log.info({ reason, deadlineMs: this.settings.drainTimeoutMs }, 'draining');
    this.#tick();
    const clean = await this.#pool.drain(this.settings.drainTimeoutMs);
    this.log.info({ clean }, clean ? 'drained: every in-flight response finished' : 'drain deadline passed; cut the rest');
    if (this.#ticker) clearInterval(this.#ticker);
    this.https?.keeper.stop();
    for (const { name, running } of this.#services.reverse()) {
      await running.stop().catch((err: unknown) => this.log.error({ err, service: name }, 'service stop failed'));
    }
    await this.store.close().catch((err: unknown) => this.log.error({ err }, 'store close failed'));
    this.#admin.closeAllConnections();
    await new Promise<void>((r) => this.#admin.close(() => r()));
    this.#resolveDone();
    return this.#done;
  }
}

export async function startDaemon(
  settings: ApplianceSettings,
  log: Logger,
  services: readonly DaemonService[] = [],
): Promise<Daemon> {
  const probe = await probeHardware(settings);
  log.info({ probe }, 'hardware probe');
  const store = await openStore({
    stateDir: settings.stateDir,
    roots: settings.storage,
    ramBytes: probe.ramTierBytes,
    ...settings.storeTuning,
    logger: log.child({ part: 'store' }),
  });
  const daemon = new Daemon(settings, probe, store, log);
  await daemon.start(services);
  return daemon;
}
