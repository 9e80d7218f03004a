// The main thread's side of HTTPS: which certificate the box serves (control's copy, else the
// configured files), reloading it when its files change, installing the one control hands over,
// the session-ticket keys and their rotation, and what health, metrics and the report say about
// it. The serving workers get the certificate and the ticket keys by message (onMaterial,
// onTicketKeys) and swap them in with setSecureContext: open connections keep the context they
// were made with, so nothing in flight is dropped.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { inspectCertificate, type CertificateInfo, type ReportedTls, type TlsCertificateOffer } from '../../../../protocol/index.ts';
import { certificateProblem, daysLeft } from './certificate.ts';
import { ORIGINS, readSource, sourceSignature, type CertificateOrigin, type SourcePaths } from './certificate-source.ts';
import type { CertificateMaterial } from './cipher-policy.ts';
import { writeControlCopy } from './control-copy.ts';
import { TicketKeyRing } from './ticket-keys.ts';

export interface TlsKeeperInit {
  paths: SourcePaths;
  /** the hostname viewers use: the certificate must name it */
  hostname: string;
  /** days before expiry at which health turns degraded */
  expiryWarningDays: number;
  ticketKeyRotateMs: number;
  reloadCheckMs: number;
  log: Logger;
  now?: () => number;
  onMaterial: (m: CertificateMaterial) => void;
  onTicketKeys: (keys: string[]) => void;
}

/** What /v1/health shows about the served certificate. */
export interface TlsHealth {
  fingerprint: string;
  source: CertificateOrigin;
  hostname: string;
  notAfter: string;
  daysLeft: number;
}

export class TlsKeeper {
  #i: TlsKeeperInit;
  #now: () => number;
  #material: CertificateMaterial | null = null;
  #info: CertificateInfo | null = null;
  #origin: CertificateOrigin | null = null;
  /** why a source that is present could not be used, as of the last load */
  #loadErrors: string[] = [];
  #signature = '';
  #tickets = new TicketKeyRing();
  #timers: NodeJS.Timeout[] = [];
  #checking: Promise<void> | null = null;
  /** set once the bound port is known */
  url = '';
  readonly stats = { reloads: 0, failedLoads: 0 };

  constructor(i: TlsKeeperInit) {
    this.#i = i;
    this.#now = i.now ?? Date.now;
  }

  get material(): CertificateMaterial | null { return this.#material; }
  get ticketKeys(): string[] { return this.#tickets.keys; }

  /** First load (before the workers start), then the change poll and the ticket-key rotation. */
  async start(): Promise<void> {
    await this.#check();
    this.#timers.push(setInterval(() => void this.check(), this.#i.reloadCheckMs));
    this.#timers.push(setInterval(() => {
      this.#tickets.rotate();
      this.#i.onTicketKeys(this.#tickets.keys);
    }, this.#i.ticketKeyRotateMs));
    for (const t of this.#timers) t.unref();
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
  }

  /** Reload if any source file changed since the last look. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<void> {
    const sig = await sourceSignature(this.#i.paths);
    if (sig === this.#signature) return;
    this.#signature = sig;
    await this.#load();
  }

  async #load(): Promise<void> {
    const errors: string[] = [];
    for (const origin of ORIGINS) {
      const what = origin === 'control' ? "control's certificate copy" : 'tls.certFile/tls.keyFile';
      let m: CertificateMaterial | null;
      try {
        m = await readSource(origin, this.#i.paths);
      } catch (e) {
        errors.push(`${what} unreadable: ${(e as Error).message}`);
        continue;
      }
      if (!m) continue;
      try {
        this.#use(m, inspectCertificate(m), origin);
        this.#loadErrors = errors;
        return;
      } catch (e) {
        errors.push(`${what} not usable: ${(e as Error).message}`);
      }
    }
    // nothing usable: keep serving what we have (a pair replaced one file at a time passes
    // through a mismatched state; the next poll picks up the finished pair)
    this.#loadErrors = errors;
    if (errors.length > 0) {
      this.stats.failedLoads++;
      this.#i.log.warn({ errors }, this.#material ? 'TLS certificate not reloaded; serving the previous one' : 'no usable TLS certificate');
    }
  }

  #use(m: CertificateMaterial, info: CertificateInfo, origin: CertificateOrigin): void {
    const same = this.#material !== null && this.#material.certPem === m.certPem && this.#material.keyPem === m.keyPem;
    this.#origin = origin;
    if (same) return;
    const first = this.#material === null;
    this.#material = m;
    this.#info = info;
    if (!first) this.stats.reloads++;
    this.#i.log.info({ fingerprint: info.fingerprint, source: origin, notAfter: new Date(info.notAfter).toISOString(), subject: info.subject },
      first ? 'TLS certificate loaded' : 'TLS certificate reloaded');
    this.#i.onMaterial(m);
  }

  /**
   * Control's certificate for our hostname, from a report reply: when it carries the PEMs (ours
   * differs), check it, store it atomically in the state dir and serve it. A bad offer is logged
   * and changes nothing.
   */
  async offer(o: TlsCertificateOffer | undefined): Promise<void> {
    if (!o || o.certPem === undefined || o.keyPem === undefined) return;
    if (this.#info?.fingerprint === o.fingerprint && this.#origin === 'control') return;
    const m = { certPem: o.certPem, keyPem: o.keyPem };
    let info: CertificateInfo;
    try {
      info = inspectCertificate(m);
      if (info.fingerprint !== o.fingerprint) throw new Error(`its fingerprint is ${info.fingerprint}, control said ${o.fingerprint}`);
    } catch (e) {
      this.#i.log.error({ err: (e as Error).message }, "control's TLS certificate refused");
      return;
    }
    await writeControlCopy(this.#i.paths.controlCopy, m);
    await this.check();
  }

  /** For the report: where viewers reach us over HTTPS and what we serve. */
  report(): ReportedTls {
    return { url: this.url, certificate: this.#info?.fingerprint ?? null };
  }

  health(): TlsHealth | null {
    const info = this.#info;
    if (!info || !this.#origin) return null;
    return {
      fingerprint: info.fingerprint, source: this.#origin, hostname: this.#i.hostname,
      notAfter: new Date(info.notAfter).toISOString(), daysLeft: daysLeft(info, this.#now()),
    };
  }

  /** Reasons for a degraded health, none when all is well. */
  problems(): string[] {
    const out: string[] = [];
    if (!this.#info) out.push('TLS: no certificate to serve (configure tls.certFile and tls.keyFile, or upload one to control)');
    else {
      const p = certificateProblem(this.#info, this.#i.hostname, this.#now(), this.#i.expiryWarningDays);
      if (p) out.push(p);
    }
    for (const e of this.#loadErrors) out.push(`TLS: ${e}`);
    return out;
  }

  registerMetrics(registry: Registry): void {
    const keeper = this;
    new Gauge({
      name: 'edgebox_tls_certificate_days_left',
      help: 'Days until the served TLS certificate expires (negative once expired), by where it came from',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        const info = keeper.#info;
        if (info && keeper.#origin) this.set({ source: keeper.#origin }, (info.notAfter - keeper.#now()) / 86_400_000);
      },
    });
    new Counter({
      name: 'edgebox_tls_certificate_reloads_total',
      help: 'Served TLS certificate replaced (ok) or a changed source that could not be used (failed)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, keeper.stats.reloads);
        this.inc({ result: 'failed' }, keeper.stats.failedLoads);
      },
    });
  }
}
