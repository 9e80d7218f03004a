// The one call the daemon's main thread makes to join the control plane: start the BGP speaker
// (when neighbors are configured) and the reporter (when a control URL is set), register their
// metrics, and hand back a stop function for the drain. Errors that make the config unusable
// (e.g. the BGP listener's port is taken) are thrown at start; after that nothing throws.

import type { Logger } from 'pino';
import type { TlsCertificateOffer } from '../../../protocol/index.ts';
import type { Registry } from 'prom-client';
import { registerBgpMetrics } from '../bgp/metrics.ts';
import type { BgpSettings } from '../bgp/settings.ts';
import { BgpSpeaker } from '../bgp/speaker.ts';
import { registerReporterMetrics } from './metrics.ts';
import { Reporter, type ControlContact, type ReportSnapshot } from './reporter.ts';
import type { ReporterSettings } from './settings.ts';

export interface ControlLinkInit {
  /** the daemon's controlUrl; '' runs BGP without reporting */
  controlUrl: string;
  stateDir: string;
  bgp: BgpSettings;
  report: ReporterSettings;
  softwareVersion: string;
  snapshot: () => ReportSnapshot | Promise<ReportSnapshot>;
  logger: Logger;
  registry?: Registry;
  onDrain?: (drain: boolean) => void;
  /** control's current fill manifest version, from each accepted report reply */
  onFillManifest?: (version: string | undefined) => void;
  /** URL-token keys control sent, and whether it revoked our credential (reporter.ts) */
  onTokenKeys?: (keys: Record<string, string>) => void;
  onCredentialRevoked?: (revoked: boolean) => void;
  /** control's certificate for the box's TLS hostname, from each accepted report reply */
  onTlsCertificate?: (offer: TlsCertificateOffer | undefined) => void;
  /** after every report cycle: whether control answered, and when it last did */
  onControlContact?: (c: ControlContact) => void;
}

export interface ControlLink {
  speaker: BgpSpeaker | null;
  reporter: Reporter | null;
  stop(): Promise<void>;
}

export async function startControlLink(init: ControlLinkInit): Promise<ControlLink> {
  let speaker: BgpSpeaker | null = null;
  if (init.bgp.neighbors.length > 0) {
    speaker = new BgpSpeaker(init.bgp, { logger: init.logger.child({ component: 'bgp' }) });
    await speaker.start();
    if (init.registry) registerBgpMetrics(init.registry, speaker);
  }
  let reporter: Reporter | null = null;
  if (init.controlUrl) {
    const sp = speaker;
    reporter = new Reporter({
      controlUrl: init.controlUrl, stateDir: init.stateDir, settings: init.report, softwareVersion: init.softwareVersion,
      snapshot: init.snapshot, logger: init.logger, onDrain: init.onDrain, onFillManifest: init.onFillManifest,
      onTlsCertificate: init.onTlsCertificate, onControlContact: init.onControlContact,
      bgp: sp ? { prefixes: sp.rib, sessions: () => sp.status() } : undefined,
      onTokenKeys: init.onTokenKeys, onCredentialRevoked: init.onCredentialRevoked,
    });
    reporter.start();
    if (init.registry) registerReporterMetrics(init.registry, reporter);
  } else {
    init.logger.warn('controlUrl is empty: not reporting to control');
  }
  return {
    speaker, reporter,
    stop: async () => {
      await reporter?.stop();
      await speaker?.stop();
    },
  };
}
