// A certificate and key pair as both sides check it — control when an operator uploads one,
// the appliance before it serves one: the leaf parses, the key belongs to it, and which
// hostnames it names. Computation only (node:crypto's X.509 parser), no I/O.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parseAddress } from './ip.ts';

export interface CertificatePair {
  /** PEM, leaf first, then its chain */
  certPem: string;
  keyPem: string;
}

export interface CertificateInfo {
  /** SHA-256 of the leaf, "AB:CD:…" (CERT_FINGERPRINT_RE) */
  fingerprint: string;
  subject: string;
  /** subjectAltName as node prints it, e.g. "DNS:edge.example.net, IP Address:192.0.2.1" */
  altNames: string;
  notBefore: number;
  notAfter: number;
  leaf: X509Certificate;
}

export class CertificateError extends Error {}

/** The leaf (first certificate of the PEM); throws CertificateError when it does not parse. */
export function describeLeaf(certPem: string): CertificateInfo {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch (e) {
    throw new CertificateError(`the certificate does not parse as PEM X.509 (${(e as Error).message})`);
  }
  return {
    fingerprint: leaf.fingerprint256,
    subject: leaf.subject.replaceAll('\n', ', '),
    altNames: leaf.subjectAltName ?? '',
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    leaf,
  };
}

/** The leaf, checked against the key; throws CertificateError saying why not. */
export function inspectCertificate(m: CertificatePair): CertificateInfo {
  const info = describeLeaf(m.certPem);
  let key;
  try {
    key = createPrivateKey(m.keyPem);
  } catch (e) {
    throw new CertificateError(`the private key does not parse as PEM (${(e as Error).message})`);
  }
  if (!info.leaf.checkPrivateKey(key)) throw new CertificateError('the private key does not belong to the certificate');
  return info;
}

/** Does the certificate name this host (DNS name, wildcard, or IP address, with or without brackets)? */
export function coversHost(info: CertificateInfo, hostname: string): boolean {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return parseAddress(host) ? info.leaf.checkIP(host) !== undefined : info.leaf.checkHost(host) !== undefined;
}

/** The DNS names and IP addresses the certificate names (subjectAltName), for operators' lists. */
export function certificateHosts(info: CertificateInfo): string[] {
  return info.altNames.split(',').map((s) => s.trim()).filter((s) => /^(DNS|IP Address):/.test(s)).map((s) => s.replace(/^(DNS|IP Address):/, ''));
}
