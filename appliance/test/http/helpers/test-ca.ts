// A certificate authority made at test time with the openssl command (Debian's package; a test
// that needs it fails when it is missing), and leaf certificates it signs with chosen names and
// validity — including ones already expired, which `openssl ca -startdate/-enddate` can make.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPENSSL = process.env.OPENSSL_BIN ?? '/usr/bin/openssl';

export interface Leaf {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  caPem: string;
  caFile: string;
  /** a leaf for these names (DNS names, or IP addresses), valid from notBefore to notAfter */
  leaf(name: string, hosts: string[], notBefore: Date, notAfter: Date): Leaf;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error(`${OPENSSL} not found: install the openssl package (scripts/setup/debian-packages.txt)`);
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? String(e)}`);
  }
}

/** openssl ca's date form, UTC: YYYYMMDDHHMMSSZ */
function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

export function makeTestCa(dir: string): TestCa {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), `[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Edgebox Test CA'], dir);
  const caFile = join(dir, 'ca.pem');
  return {
    caPem: readFileSync(caFile, 'utf8'),
    caFile,
    leaf(name, hosts, notBefore, notAfter) {
      const san = hosts.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${hosts[0]}`], dir);
      openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`,
        '-out', `${name}.pem`, '-notext', '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter),
        '-extfile', `${name}.ext`], dir);
      const certFile = join(dir, `${name}.pem`);
      const keyFile = join(dir, `${name}.key`);
      return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8'), certFile, keyFile };
    },
  };
}

export const DAY_MS = 86_400_000;
export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY_MS);
}
