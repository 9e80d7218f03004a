// HTTPS on the appliances, as the report link carries it: what a box says about the TLS it
// serves (in each report), and the certificate control hands back in the reply when the box
// serves another one than the operator uploaded for its hostname (so a fleet renews in one
// place). The full PEM travels only when the fingerprints differ.

import { z } from 'zod';

/** SHA-256 of the DER certificate, colon-separated upper-case hex (node's X509Certificate.fingerprint256). */
export const CERT_FINGERPRINT_RE = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;
const fingerprint = z.string().regex(CERT_FINGERPRINT_RE, 'must be a SHA-256 fingerprint "AB:CD:…" (32 bytes)');

/** PEM sizes: a leaf plus a few intermediates, and one private key; anything larger is not a certificate. */
export const MAX_CERT_PEM_CHARS = 64 * 1024;
export const MAX_KEY_PEM_CHARS = 16 * 1024;

export const ReportedTls = z.object({
  /** where viewers reach the box over HTTPS: https://host[:port], no path */
  url: z.url().max(300).refine((u) => u.startsWith('https://'), 'must be an https:// URL'),
  /** the certificate served now; null while the box has none */
  certificate: fingerprint.nullable(),
});
export type ReportedTls = z.infer<typeof ReportedTls>;

export const TlsCertificateOffer = z
  .object({
    /** the certificate control holds for this box's TLS hostname */
    fingerprint,
    /** only when the report named another certificate: PEM, leaf first, then its chain */
    certPem: z.string().min(1).max(MAX_CERT_PEM_CHARS).optional(),
    /** with certPem: the leaf's private key, PEM */
    keyPem: z.string().min(1).max(MAX_KEY_PEM_CHARS).optional(),
  })
  .refine((o) => (o.certPem === undefined) === (o.keyPem === undefined), 'certPem and keyPem come together');
export type TlsCertificateOffer = z.infer<typeof TlsCertificateOffer>;
