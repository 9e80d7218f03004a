// Certificates for the appliances' serving hostnames, uploaded by an operator and handed to the
// boxes over their report link, so a fleet renews in one place. Each is stored with its key
// sealed under the KEK (KeyVault, AAD = its fingerprint) and the hostnames it names. A box gets
// the certificate that names the hostname of the https:// URL it reports and expires last;
// the PEMs travel only when the box reports another fingerprint.
//
// Kept in memory and re-read from the store at most every REFRESH_MS, so an upload through
// another control instance on a shared database reaches this one's replies within that time.

import {
  certificateHosts,
  type CertificateInfo,
  type CertificatePair,
  coversHost,
  describeLeaf,
  HttpError,
  inspectCertificate,
  type ReportedTls,
  type TlsCertificateOffer,
} from '../../../protocol/index.ts';
import type { KeyVault } from '../licence/key-vault.ts';
import type { Repository, TlsCertificateRow } from '../store/repository.ts';

const REFRESH_MS = 30_000;
/** the KeyVault's "title" for sealed TLS keys (its kid is the certificate's fingerprint) */
const VAULT_SCOPE = 'tls-certificate';

/** What operators see of a stored certificate (never the key). */
export interface CertificateSummary {
  fingerprint: string;
  hosts: string[];
  subject: string;
  notBefore: string;
  notAfter: string;
  uploadedAt: string;
}

interface Held { row: TlsCertificateRow; info: CertificateInfo }

export class TlsCertificates {
  #repo: Repository;
  #vault: KeyVault;
  #now: () => number;
  #held: Held[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;

  constructor(repo: Repository, vault: KeyVault, now: () => number) {
    this.#repo = repo;
    this.#vault = vault;
    this.#now = now;
  }

  /** Check and store an upload: it parses, the key is the leaf's, it has not expired (400 otherwise). */
  async put(upload: CertificatePair): Promise<CertificateSummary> {
    let info: CertificateInfo;
    try {
      info = inspectCertificate(upload);
    } catch (e) {
      throw new HttpError(400, 'bad_certificate', (e as Error).message);
    }
    if (info.notAfter <= this.#now()) throw new HttpError(400, 'certificate_expired', `the certificate expired on ${new Date(info.notAfter).toISOString()}`);
    const hosts = certificateHosts(info);
    if (hosts.length === 0) throw new HttpError(400, 'bad_certificate', 'the certificate names no DNS name or IP address (subjectAltName)');
    const row: TlsCertificateRow = {
      fingerprint: info.fingerprint, certPem: upload.certPem, hosts,
      keySealed: this.#vault.seal(VAULT_SCOPE, info.fingerprint, Buffer.from(upload.keyPem).toString('hex')),
      notBefore: info.notBefore, notAfter: info.notAfter, uploadedAt: this.#now(),
    };
    await this.#repo.putTlsCertificate(row);
    await this.#load();
    return summary(row, info);
  }

  async list(): Promise<CertificateSummary[]> {
    await this.#fresh();
    return this.#held.map((h) => summary(h.row, h.info));
  }

  async delete(fingerprint: string): Promise<boolean> {
    const gone = await this.#repo.deleteTlsCertificate(fingerprint);
    await this.#load();
    return gone;
  }

  /** For a report reply: the certificate for the box's TLS hostname, PEMs only when it serves another. */
  async offerFor(tls: ReportedTls | undefined): Promise<TlsCertificateOffer | undefined> {
    if (!tls) return undefined;
    await this.#fresh();
    const host = new URL(tls.url).hostname;
    const now = this.#now();
    let best: Held | undefined;
    for (const h of this.#held) {
      if (h.row.notAfter <= now || !coversHost(h.info, host)) continue;
      if (!best || h.row.notAfter > best.row.notAfter || (h.row.notAfter === best.row.notAfter && h.row.uploadedAt > best.row.uploadedAt)) best = h;
    }
    if (!best) return undefined;
    const fingerprint = best.row.fingerprint;
    if (tls.certificate === fingerprint) return { fingerprint };
    const keyPem = this.#vault.open(VAULT_SCOPE, fingerprint, best.row.keySealed).toString('utf8');
    return { fingerprint, certPem: best.row.certPem, keyPem };
  }

  #fresh(): Promise<void> {
    return this.#now() - this.#loadedAt < REFRESH_MS ? Promise.resolve() : this.#load();
  }

  #load(): Promise<void> {
    this.#loading ??= this.#repo.listTlsCertificates().then((rows) => {
      // the stored PEM was checked on upload; only the leaf is parsed again (no key needed)
      this.#held = rows.map((row) => ({ row, info: describeLeaf(row.certPem) }));
      this.#loadedAt = this.#now();
    }).finally(() => (this.#loading = null));
    return this.#loading;
  }
}

function summary(row: TlsCertificateRow, info: CertificateInfo): CertificateSummary {
  return {
    fingerprint: row.fingerprint, hosts: row.hosts, subject: info.subject,
    notBefore: new Date(row.notBefore).toISOString(), notAfter: new Date(row.notAfter).toISOString(),
    uploadedAt: new Date(row.uploadedAt).toISOString(),
  };
}
