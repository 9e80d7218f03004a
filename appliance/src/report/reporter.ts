// Reports the box to control: enrolls once (credential kept in the state dir), then every
// report interval sends an ApplianceReport built from a snapshot callback (health, load, tiers,
// inventory) and the BGP prefix set. Prefixes and inventory go as deltas against the set control
// last acknowledged (prefix-tracker.ts, inventory-tracker.ts), in full when control asks (and
// prefixes every `prefixFullSyncMs`). A dead control means retries with exponential backoff;
// nothing here throws into the daemon.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import pino from 'pino';
import type { ApplianceReport, FillReport, HealthStatus, ReportedTls, Tier, TlsCertificateOffer } from '../../../protocol/index.ts';
import { CREDENTIAL_REVOKED, type ReportReply } from '../../../protocol/index.ts';
import { ControlCallError, enroll, sendReport } from './control-client.ts';
import { CredentialStore, type StoredCredential } from './credential-store.ts';
import { ControlSecrets } from './control-secrets.ts';
import { InventoryTracker } from './inventory-tracker.ts';
import { EMPTY_PREFIX_SOURCE, PrefixTracker, type PrefixSource } from './prefix-tracker.ts';
import type { ReporterSettings } from './settings.ts';

/** What the daemon knows about itself; structurally the daemon's ApplianceSnapshot. */
export interface ReportSnapshot {
  health: { status: HealthStatus; reasons: string[] };
  draining: boolean;
  load: { egressBps: number; capacityBps: number; connections: number; cpu: number };
  tiers: { tier: Tier; usedBytes: number; capacityBytes: number }[];
  inventory: readonly string[];
  /** fill progress (absent when the box does not fill) */
  fill?: FillReport;
  /** HTTPS: where viewers reach the box over TLS and the certificate it serves */
  tls?: ReportedTls;
}

export interface BgpSource {
  /** the learned routes (BgpSpeaker.rib) */
  prefixes: PrefixSource;
  /** per-session state (BgpSpeaker.status()) */
  sessions(): { peer: string; state: ApplianceReport['bgp'][number]['state']; since: number; prefixes: number }[];
}

export interface ReporterTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  now(): number;
}

export interface ReporterInit {
  controlUrl: string;
  stateDir: string;
  settings: ReporterSettings;
  softwareVersion: string;
  snapshot: () => ReportSnapshot | Promise<ReportSnapshot>;
  bgp?: BgpSource;
  /** control's operator drain flag, as seen in each reply */
  onDrain?: (drain: boolean) => void;
  /** control's current fill manifest version, as seen in each accepted reply */
  onFillManifest?: (version: string | undefined) => void;
  /** the URL-token keys control sent (a rotation); the box accepts exactly these from now on */
  onTokenKeys?: (keys: Record<string, string>) => void;
  /** whether an operator revoked this box's credential (known at each cycle; false again after a new enrollment) */
  onCredentialRevoked?: (revoked: boolean) => void;
  /** after every cycle: whether control answered it, and when it last did (the daemon pauses
   *  fill while it does not, and refuses viewers once it has not for too long) */
  onControlContact?: (c: ControlContact) => void;
  /** control's certificate for the box's TLS hostname, as seen in each accepted reply (PEMs only when ours differs) */
  onTlsCertificate?: (offer: TlsCertificateOffer | undefined) => void;
  logger?: Logger;
  timers?: ReporterTimers;
  /** 0..1; jitters the backoff so a fleet does not retry in lockstep */
  random?: () => number;
}

export type ReportOutcome = 'sent' | 'ignored' | 'retry' | 'no-credential';

/** Control's reachability as the reporter sees it (timers.now() clock). */
export interface ControlContact {
  /** the last report cycle got an answer (accepted, or ignored as a replay) */
  reachable: boolean;
  /** when control last answered; the reporter's start until it first does */
  lastContactAt: number;
}

/**
 * Time allowed per route listed in a report, on top of requestTimeoutMs: control takes a second
 * or two for a million routes on a quiet machine, and much longer on a busy one (a full table's
 * report times out after 105 s with the default 5 s).
 */
const TIMEOUT_PER_ROUTE_MS = 0.1;

export class Reporter {
  readonly bootId = randomBytes(12).toString('hex');
  readonly stats = { sent: 0, ignored: 0, failures: 0, enrollments: 0, fullPrefixes: 0, prefixDeltas: 0, prefixRoutesSent: 0, fullInventories: 0 };
  #init: ReporterInit;
  #log: Logger;
  #timers: ReporterTimers;
  #random: () => number;
  #store: CredentialStore;
  /** URL-token keys and the revoked mark, as control last said (control-secrets.ts) */
  readonly secrets: ControlSecrets;
  #cred: StoredCredential | null = null;
  #seq = 0;
  #inventory = new InventoryTracker();
  #prefixes = new PrefixTracker();
  #failures = 0;
  #timer: unknown = null;
  #running = false;
  #inFlight: Promise<ReportOutcome> | null = null;
  #contact: ControlContact;
  /** control answered again after failures: report again at once, with the box's state as it is now */
  #reportAgain = false;

  constructor(init: ReporterInit) {
    this.#init = init;
    this.#log = (init.logger ?? pino({ level: 'silent' })).child({ component: 'reporter' });
    this.#timers = init.timers ?? { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), now: () => Date.now() };
    this.#random = init.random ?? Math.random;
    this.#store = new CredentialStore(init.stateDir);
    this.secrets = new ControlSecrets(init.stateDir);
    this.#contact = { reachable: true, lastContactAt: this.#timers.now() };
  }

  get contact(): ControlContact { return { ...this.#contact }; }

  get applianceId(): string | null { return this.#cred?.applianceId ?? null; }

  get intervalMs(): number {
    return this.#init.settings.reportIntervalMs || this.#cred?.reportIntervalMs || 10_000;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight?.catch(() => {});
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.reportOnce().then((o) => {
        // After a failure, back off exponentially (with jitter) but never wait past one interval
        // longer than the backoff ceiling; after a success, the regular interval.
        if (o === 'retry' || o === 'no-credential') {
          const s = this.#init.settings;
          const base = Math.min(s.backoffMaxMs, s.backoffMinMs * 2 ** Math.min(this.#failures - 1, 20));
          this.#schedule(Math.round(base * (0.75 + 0.5 * this.#random())));
        } else {
          // control is back: the report that reached it was built while the box still thought it
          // away (fill paused, maybe viewers refused); the next one says how it is now
          this.#schedule(this.#reportAgain ? 0 : this.intervalMs);
          this.#reportAgain = false;
        }
      });
    }, ms);
  }

  /** One enroll-if-needed + report cycle. Never throws. */
  reportOnce(): Promise<ReportOutcome> {
    if (this.#inFlight) return this.#inFlight;
    this.#inFlight = this.#cycle().catch((e: unknown) => {
      this.#failures++;
      this.stats.failures++;
      this.#log.error({ err: e }, 'report cycle failed');
      return 'retry' as const;
    }).then((o) => {
      this.#noteContact(o === 'sent' || o === 'ignored');
      return o;
    }).finally(() => { this.#inFlight = null; });
    return this.#inFlight;
  }

  #noteContact(answered: boolean): void {
    const now = this.#timers.now();
    if (answered !== this.#contact.reachable) {
      if (answered) this.#log.info({ awayMs: now - this.#contact.lastContactAt }, 'control answers again');
      else this.#log.warn({ lastContactAt: new Date(this.#contact.lastContactAt).toISOString() }, 'control unreachable');
      this.#reportAgain = answered;
    }
    this.#contact = { reachable: answered, lastContactAt: answered ? now : this.#contact.lastContactAt };
    this.#init.onControlContact?.({ ...this.#contact });
  }

  async #credential(): Promise<StoredCredential | null> {
    const url = this.#init.controlUrl;
    if (this.#cred) return this.#cred;
    const stored = await this.#store.load();
    if (stored && stored.controlUrl === url) return (this.#cred = stored);
    const s = this.#init.settings;
    if (!s.enrollmentToken) {
      this.#log.error('no stored control credential and no enrollmentToken configured: cannot report');
      return null;
    }
    const reply = await enroll(url, {
      enrollmentToken: s.enrollmentToken, name: s.name, publicUrl: s.publicUrl, ...(s.siteId ? { siteId: s.siteId } : {}),
    }, s.requestTimeoutMs);
    const cred: StoredCredential = { controlUrl: url, ...reply };
    try {
      await this.#store.save(cred);
    } catch (e) {
      // The enrollment token is spent: keep reporting with the credential we hold, loudly.
      this.#log.error({ err: (e as Error).message, file: this.#store.file }, 'could not store the control credential; a restart will need a new enrollment token');
    }
    this.stats.enrollments++;
    if (this.secrets.revoked) {
      await this.secrets.clearRevoked();
      this.#init.onCredentialRevoked?.(false);
    }
    this.#log.info({ applianceId: reply.applianceId, siteId: reply.siteId }, 'enrolled with control');
    return (this.#cred = cred);
  }

  /** Keys control sent: on disk first, then to the serving workers. */
  async #takeKeys(set: NonNullable<ReportReply['tokenKeys']>): Promise<void> {
    try {
      await this.secrets.acceptKeys(set);
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'could not store the URL-token keys; using them until a restart');
    }
    this.#log.info({ kids: Object.keys(set.keys), version: set.version }, 'URL-token keys from control');
    this.#init.onTokenKeys?.(set.keys);
  }

  /** An operator rotated our credential: the next call uses the new one (control then drops the old). */
  async #takeCredential(cred: StoredCredential, credential: string): Promise<void> {
    const next = { ...cred, credential };
    try {
      await this.#store.save(next);
    } catch (e) {
      this.#log.error({ err: (e as Error).message, file: this.#store.file }, 'could not store the rotated control credential; a restart will need a new enrollment token');
    }
    this.#cred = next;
    this.#log.info('control rotated our credential');
  }

  async #cycle(): Promise<ReportOutcome> {
    await this.secrets.load();
    this.#init.onCredentialRevoked?.(this.secrets.revoked !== null);
    let cred: StoredCredential | null;
    try {
      cred = await this.#credential();
    } catch (e) {
      this.#failures++;
      this.stats.failures++;
      this.#log.warn({ err: (e as Error).message }, 'enrollment failed; will retry');
      return 'retry';
    }
    if (!cred) {
      this.#failures++;
      this.stats.failures++;
      return 'no-credential';
    }

    const snap = await this.#init.snapshot();
    const inv = this.#inventory.build(snap.inventory);
    const pfx = this.#prefixes.build(this.#init.bgp?.prefixes ?? EMPTY_PREFIX_SOURCE, this.#timers.now(), this.#init.settings.prefixFullSyncMs);
    const report: ApplianceReport = {
      seq: this.#seq++,
      bootId: this.bootId,
      sentAt: this.#timers.now(),
      softwareVersion: this.#init.softwareVersion,
      health: snap.health,
      draining: snap.draining,
      load: snap.load,
      tiers: snap.tiers,
      inventory: inv.report,
      prefixes: pfx.report,
      bgp: (this.#init.bgp?.sessions() ?? []).map((s) => ({ peer: s.peer, state: s.state, since: s.since, prefixes: s.prefixes })),
      ...(snap.fill ? { fill: snap.fill } : {}),
      ...(this.secrets.tokenKeysVersion ? { tokenKeys: this.secrets.tokenKeysVersion } : {}),
      ...(snap.tls ? { tls: snap.tls } : {}),
    };
    try {
      const timeoutMs = this.#init.settings.requestTimeoutMs + Math.ceil(pfx.routes * TIMEOUT_PER_ROUTE_MS);
      const reply = await sendReport(this.#init.controlUrl, cred.applianceId, cred.credential, report, timeoutMs);
      this.#failures = 0;
      if (!reply.ok) {
        this.stats.ignored++;
        this.#log.warn({ seq: report.seq }, 'control ignored the report');
        return 'ignored';
      }
      this.stats.sent++;
      if (inv.report.kind === 'full') this.stats.fullInventories++;
      if (pfx.kind === 'full') this.stats.fullPrefixes++;
      if (pfx.kind === 'delta') this.stats.prefixDeltas++;
      this.stats.prefixRoutesSent += pfx.routes;
      inv.ack();
      pfx.ack();
      if (reply.needInventory) this.#inventory.needFull();
      if (reply.needPrefixes) this.#prefixes.needFull();
      if (reply.drain !== undefined) this.#init.onDrain?.(reply.drain);
      this.#init.onFillManifest?.(reply.fillManifest);
      if (reply.tokenKeys) await this.#takeKeys(reply.tokenKeys);
      if (reply.credential) await this.#takeCredential(cred, reply.credential);
      this.#init.onTlsCertificate?.(reply.tlsCertificate);
      return 'sent';
    } catch (e) {
      this.#failures++;
      this.stats.failures++;
      if (e instanceof ControlCallError && e.code === CREDENTIAL_REVOKED) {
        // Said in health (failing) until a new enrollment succeeds; kept across restarts.
        this.#log.error({ applianceId: cred.applianceId }, 'an operator revoked this box\'s control credential; a new enrollment token is needed');
        await this.secrets.markRevoked({ applianceId: cred.applianceId, at: this.#timers.now() })
          .catch((err: unknown) => this.#log.error({ err }, 'could not store the revoked mark'));
        this.#init.onCredentialRevoked?.(true);
      }
      if (e instanceof ControlCallError && e.credentialRejected) {
        // Control no longer knows this credential: forget it and enroll again (an operator must
        // supply a fresh enrollment token for that to succeed).
        this.#log.error({ err: e.message }, 'control rejected our credential; forgetting it');
        this.#cred = null;
        await this.#store.remove();
      } else {
        this.#log.warn({ err: (e as Error).message, failures: this.#failures }, 'report failed; will retry');
      }
      // Until control confirms again, assume it holds nothing of our inventory. Prefixes keep
      // their base: the next delta repeats this one's changes, which is harmless if control
      // applied them after all (prefix-tracker.ts).
      this.#inventory.needFull();
      return 'retry';
    }
  }
}
