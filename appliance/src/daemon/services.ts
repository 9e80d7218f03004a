// Extra services the daemon runs beside serving — the control reporter, BGP, fill. Each is
// started once the daemon is ready, with the Daemon (settings, store, snapshot(), drain()), and
// stopped during a drain after the serving workers have finished and before the store closes.
// To add one, append it to DAEMON_SERVICES (this list is the only edit the daemon needs).

import { fillService } from './fill-service.ts';
import { startControlLink } from '../report/control-link.ts';
import type { Daemon } from './daemon.ts';

export interface RunningService {
  stop(): Promise<void>;
}

export interface DaemonService {
  name: string;
  start(daemon: Daemon): Promise<RunningService>;
}

/**
 * BGP (learn the ISP's prefixes) and the control reporter (health, load, inventory, prefixes).
 * Control's drain flag is a soft drain: the box keeps serving but reports itself draining (and
 * degraded) so steering sends new viewers elsewhere; the hard drain is SIGTERM or the admin call.
 */
export const controlLinkService: DaemonService = {
  name: 'control-link',
  async start(d) {
    const s = d.settings;
    const link = await startControlLink({
      controlUrl: s.controlUrl,
      stateDir: s.stateDir,
      bgp: s.bgp,
      report: s.report,
      softwareVersion: d.softwareVersion,
      snapshot: () => d.snapshot(),
      logger: d.log.child({ part: 'control-link' }),
      registry: d.metricsRegistry,
      onDrain: (drain) => d.setControlDrain(drain),
      onFillManifest: (version) => d.fill?.noteManifestVersion(version),
      onTokenKeys: (keys) => d.setTokenKeys(keys),
      onCredentialRevoked: (revoked) => d.setCredentialRevoked(revoked),
      onControlContact: (c) => d.setControlContact(c),
      onTlsCertificate: (offer) => void d.https?.keeper.offer(offer).catch((err: unknown) => d.log.error({ err }, "installing control's TLS certificate failed")),
    });
    return { stop: () => link.stop() };
  },
};

/** Fill (appliance/src/fill/): started after the control link, whose replies name its manifest. */
export const DAEMON_SERVICES: DaemonService[] = [controlLinkService, fillService];
