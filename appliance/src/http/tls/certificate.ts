// A certificate and key as the box serves them: checked before use (they parse, the key belongs
// to the leaf) and judged for health (days left, the serving hostname). Reading files and
// control's copy is certificate-source.ts; this part is pure apart from node:crypto.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { CertificateMaterial } from './cipher-policy.ts';

const DAY_MS = 86_400_000;

export interface CertificateInfo {
  /** SHA-256 of the leaf, "AB:CD:…" (protocol's CERT_FINGERPRINT_RE) */
  fingerprint: string;
  subject: string;
  /** subjectAltName as node prints it, e.g. "DNS:edge.example.net, IP Address:192.0.2.1" */
  altNames: string;
  notBefore: number;
  notAfter: number;
  leaf: X509Certificate;
}

export class CertificateError extends Error {}

/** The leaf (first certificate of the PEM), checked against the key; throws CertificateError saying why not. */
export function inspectCertificate(m: CertificateMaterial): CertificateInfo {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(m.certPem);
  } catch (e) {
    throw new CertificateError(`the certificate does not parse as PEM X.509 (${(e as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(m.keyPem);
  } catch (e) {
    throw new CertificateError(`the private key does not parse as PEM (${(e as Error).message})`);
  }
  if (!leaf.checkPrivateKey(key)) throw new CertificateError('the private key does not belong to the certificate');
  return {
    fingerprint: leaf.fingerprint256,
    subject: leaf.subject.replaceAll('\n', ', '),
    altNames: leaf.subjectAltName ?? '',
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    leaf,
  };
}

/** Whole days until the certificate expires (negative once it has), floored. */
export function daysLeft(info: CertificateInfo, now: number): number {
  return Math.floor((info.notAfter - now) / DAY_MS);
}

/** Does the certificate name this host (DNS name, wildcard, or IP address)? */
export function coversHost(info: CertificateInfo, hostname: string): boolean {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(host) ? info.leaf.checkIP(host) !== undefined : info.leaf.checkHost(host) !== undefined;
}

/**
 * What an operator must fix about the served certificate, or null: expired, not yet valid,
 * expiring within `warnDays`, or not naming the serving hostname.
 */
export function certificateProblem(info: CertificateInfo, hostname: string, now: number, warnDays: number): string | null {
  const problems: string[] = [];
  const left = daysLeft(info, now);
  if (now >= info.notAfter) problems.push(`expired on ${new Date(info.notAfter).toISOString()}`);
  else if (now < info.notBefore) problems.push(`not valid before ${new Date(info.notBefore).toISOString()}`);
  else if (left < warnDays) problems.push(`expires in ${left} days (on ${new Date(info.notAfter).toISOString()})`);
  if (!coversHost(info, hostname)) problems.push(`does not name the serving hostname ${hostname} (${info.altNames || info.subject})`);
  return problems.length === 0 ? null : `TLS certificate ${problems.join('; ')}`;
}
