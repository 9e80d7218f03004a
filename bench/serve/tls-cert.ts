// The certificate both servers present in the TLS workloads: a leaf for 127.0.0.1 signed by a CA
// made now with openssl (the appliance tests' helper), and the one TLS policy both are given —
// the appliance's own list (appliance/src/http/tls/cipher-policy.ts) written as nginx directives,
// so the comparison is of the servers, not of what they negotiate.

import { join } from 'node:path';
import { ECDH_CURVES, TLS12_CIPHERS, TLS13_CIPHERSUITES } from '../../appliance/src/http/tls/cipher-policy.ts';
import { daysFromNow, makeTestCa } from '../../appliance/test/http/helpers/test-ca.ts';

export interface BenchCert {
  certFile: string;
  keyFile: string;
  caPem: string;
}

export function makeBenchCert(dir: string): BenchCert {
  const ca = makeTestCa(join(dir, 'ca'));
  const leaf = ca.leaf('bench', ['127.0.0.1', 'localhost'], daysFromNow(-1), daysFromNow(30));
  return { certFile: leaf.certFile, keyFile: leaf.keyFile, caPem: ca.caPem };
}

/** nginx's side of the appliance's TLS policy, for a `server` block (nginx ≥ 1.19.4, OpenSSL 3). */
export function nginxTlsDirectives(cert: BenchCert): string {
  return `ssl_certificate ${cert.certFile};
    ssl_certificate_key ${cert.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${TLS12_CIPHERS};
    ssl_conf_command Ciphersuites ${TLS13_CIPHERSUITES};
    ssl_ecdh_curve ${ECDH_CURVES};
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;`;
}
