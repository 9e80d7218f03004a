// The main thread's certificate keeper on real files: control's copy wins over the configured
// files (a fleet renews in one place) and survives a restart; an offer whose PEM is not what
// control named, or whose key is another's, is refused and changes nothing.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { controlCopyPath } from '../../src/http/tls/control-copy.ts';
import { TlsKeeper } from '../../src/http/tls/tls-keeper.ts';
import { daysFromNow, makeTestCa, type Leaf } from './helpers/test-ca.ts';

let dir: string;
let files: Leaf;
let fromControl: Leaf;
let other: Leaf;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgebox-keeper-'));
  const ca = makeTestCa(join(dir, 'ca'));
  files = ca.leaf('files', ['edge.example.net'], daysFromNow(-1), daysFromNow(30));
  fromControl = ca.leaf('control', ['edge.example.net'], daysFromNow(-1), daysFromNow(300));
  other = ca.leaf('other', ['edge.example.net'], daysFromNow(-1), daysFromNow(60));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fp = (l: Leaf) => new X509Certificate(l.certPem).fingerprint256;

function keeper(stateDir: string, installed: string[]): TlsKeeper {
  return new TlsKeeper({
    paths: { controlCopy: controlCopyPath(stateDir), certFile: files.certFile, keyFile: files.keyFile },
    hostname: 'edge.example.net', expiryWarningDays: 14, ticketKeyRotateMs: 3_600_000, reloadCheckMs: 3_600_000,
    log: pino({ level: 'silent' }),
    onMaterial: (m) => installed.push(new X509Certificate(m.certPem).fingerprint256),
    onTicketKeys: () => {},
  });
}

it('serves the files until control hands a certificate over, then control\'s, also after a restart', async () => {
  const state = join(dir, 'state');
  const installed: string[] = [];
  const k = keeper(state, installed);
  await k.start();
  expect(k.health()).toMatchObject({ source: 'files', fingerprint: fp(files) });

  // refused: the PEM is not the certificate control named; a key of another certificate
  await k.offer({ fingerprint: fp(fromControl), certPem: other.certPem, keyPem: other.keyPem });
  await k.offer({ fingerprint: fp(fromControl), certPem: fromControl.certPem, keyPem: other.keyPem });
  expect(k.health()).toMatchObject({ source: 'files', fingerprint: fp(files) });
  // no PEMs: control says we hold the right one already; nothing to do
  await k.offer({ fingerprint: fp(files) });

  await k.offer({ fingerprint: fp(fromControl), certPem: fromControl.certPem, keyPem: fromControl.keyPem });
  expect(k.health()).toMatchObject({ source: 'control', fingerprint: fp(fromControl), daysLeft: 299 });
  expect(k.report()).toMatchObject({ certificate: fp(fromControl) });
  expect(statSync(controlCopyPath(state)).mode & 0o777).toBe(0o600);
  expect(installed).toEqual([fp(files), fp(fromControl)]);
  k.stop();

  const again = keeper(state, []);
  await again.start();
  expect(again.health()).toMatchObject({ source: 'control', fingerprint: fp(fromControl) });
  expect(again.problems()).toEqual([]);
  again.stop();
});
