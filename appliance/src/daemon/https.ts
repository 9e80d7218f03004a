// The daemon's HTTPS set-up from its settings: which address serves TLS (tls.listen beside plain
// HTTP, or the public `listen` itself in `only` mode), the hostname the certificate must name,
// the https:// URL reported to control, and the TlsKeeper (http/tls/) that holds certificate
// and ticket keys. Kept apart from daemon.ts so the main thread's start reads in a few lines.

import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { CertificateMaterial } from '../http/tls/cipher-policy.ts';
import { controlCopyPath } from '../http/tls/control-copy.ts';
import type { WorkerTls } from '../http/tls/secure-serving.ts';
import { TlsKeeper } from '../http/tls/tls-keeper.ts';
import { splitHostPort, type ApplianceSettings } from './settings.ts';

export interface Https {
  keeper: TlsKeeper;
  /** the HTTPS address (port 0 resolved by the caller before workers start) */
  address: { host: string; port: number };
  only: boolean;
  /** for each worker's WorkerInit */
  workerTls(): WorkerTls;
  /** once the port is known: the https:// URL reported to control */
  setBoundPort(port: number): void;
}

/** The hostname viewers use: tls.hostname, else report.publicUrl's host (no brackets). */
export function servingHostname(s: ApplianceSettings): string {
  if (s.tls.hostname !== '') return s.tls.hostname;
  return new URL(s.report.publicUrl).hostname.replace(/^\[(.*)\]$/, '$1');
}

/** null when tls.mode is off. The keeper is started (first certificate loaded) before this returns. */
export async function setUpHttps(
  s: ApplianceSettings,
  publicAddress: { host: string; port: number },
  log: Logger,
  post: { material(m: CertificateMaterial): void; ticketKeys(keys: string[]): void },
): Promise<Https | null> {
  if (s.tls.mode === 'off') return null;
  const only = s.tls.mode === 'only';
  const address = only ? publicAddress : splitHostPort(s.tls.listen);
  const hostname = servingHostname(s);
  const keeper = new TlsKeeper({
    paths: { controlCopy: controlCopyPath(s.stateDir), certFile: s.tls.certFile, keyFile: s.tls.keyFile },
    hostname,
    expiryWarningDays: s.tls.expiryWarningDays,
    ticketKeyRotateMs: s.tls.ticketKeyRotateMs,
    reloadCheckMs: s.tls.reloadCheckMs,
    log: log.child({ part: 'tls' }),
    onMaterial: (m) => post.material(m),
    onTicketKeys: (keys) => post.ticketKeys(keys),
  });
  await keeper.start();
  return {
    keeper,
    address,
    only,
    workerTls: () => ({ ...address, only, material: keeper.material, ticketKeys: keeper.ticketKeys }),
    setBoundPort(port) {
      address.port = port;
      const host = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
      keeper.url = s.tls.publicUrl !== '' ? s.tls.publicUrl.replace(/\/+$/, '') : `https://${host}${port === 443 ? '' : `:${port}`}`;
    },
  };
}
