// What the public port offers over TLS, in one place so the serving workers and the serve bench's
// nginx use the same list: TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD
// ciphers (forward secrecy, no CBC); for 1.3 OpenSSL's default suites (all AEAD). The order is
// Mozilla's "intermediate" profile, and the client's preference is honoured among them (every
// suite here is strong, and a phone without AES hardware picks ChaCha20).

import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { CertificatePair } from '../../../../protocol/index.ts';

export const TLS_MIN_VERSION = 'TLSv1.2';

/** TLS 1.2 suites (OpenSSL names), also nginx's `ssl_ciphers` in the bench. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** TLS 1.3 suites: OpenSSL's default set, named so both servers are configured alike. */
export const TLS13_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

export const ECDH_CURVES = 'X25519:prime256v1:secp384r1';

/** The certificate and key a server presents: PEM, leaf first then its chain. */
export type CertificateMaterial = CertificatePair;

/**
 * Options for tls.createServer / setSecureContext. The session id context is fixed (not node's
 * default, a hash of argv) so a session resumes on any worker of the box — and on a box started
 * with other arguments.
 */
export function secureContextOptions(m: CertificateMaterial | null): SecureContextOptions {
  return {
    ...(m ? { cert: m.certPem, key: m.keyPem } : {}),
    minVersion: TLS_MIN_VERSION,
    ciphers: `${TLS13_CIPHERSUITES}:${TLS12_CIPHERS}`,
    ecdhCurve: ECDH_CURVES,
    honorCipherOrder: false,
    sessionIdContext: 'edgebox-public',
  };
}

/** Server options: the context above plus ALPN (HTTP/1.1 only: the serving path is h1/). */
export function tlsServerOptions(m: CertificateMaterial | null): TlsOptions {
  return { ...secureContextOptions(m), ALPNProtocols: ['http/1.1'] };
}
