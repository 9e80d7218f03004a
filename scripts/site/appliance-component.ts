// The site's appliance: sample files published through the store, a config written under
// .data/site/<name>/, the daemon started as a child process, and the URLs to try.

import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { startAppliance, writeApplianceConfig } from '../lib/appliance.ts';
import { publishFiles } from '../lib/publish.ts';
import type { RunningComponent, SiteComponent } from './component.ts';
import { ensureSamples, SAMPLE_TITLE } from './samples.ts';
import { SITE_ID } from './state.ts';

export interface ApplianceComponentOptions {
  name?: string;
  /** echo the daemon's log lines */
  verbose?: boolean;
  /** token lifetime for the printed URLs */
  tokenTtlSec?: number;
  /** enroll with and report to control when the site runs it (default true) */
  joinControl?: boolean;
}

export function applianceComponent(o: ApplianceComponentOptions = {}): SiteComponent {
  const name = o.name ?? 'appliance-1';
  return {
    name,
    async start(state, before): Promise<RunningComponent> {
      const dir = state.componentDir(name);
      const samples = ensureSamples(state.componentDir('samples'));
      const { tokenKid, tokenSecret, adminToken } = state.secrets;
      const { enrollmentToken } = state;
      // with control in the site, the appliance enrolls (site token) and reports to it
      const controlUrl = o.joinControl === false ? undefined : before.find((c) => c.exports.controlUrl)?.exports.controlUrl;
      const config = await writeApplianceConfig({
        dir,
        ports: { listen: await state.port(name), admin: await state.port(`${name}-admin`) },
        applianceId: name,
        tokenKeys: { [tokenKid]: tokenSecret },
        adminToken,
        extra: (listen) => ({
          ramTierBytes: 64 * 1024 * 1024,
          logLevel: 'info',
          ...(controlUrl
            ? {
                controlUrl,
                report: { enrollmentToken, name, publicUrl: `http://${listen}`, siteId: SITE_ID },
              }
            : {}),
        }),
      });
      // publish before the daemon starts: the store is the daemon's, and a second writer while
      // it runs would not be seen by its workers; a file already held is left alone
      const published = await publishFiles(config, samples);
      // the daemon's structured log goes to a file (and to the terminal with --verbose)
      const logPath = join(dir, 'appliance.log');
      const logFile = createWriteStream(logPath, { flags: 'a' });
      const app = await startAppliance(config, {
        onOutput: (s) => {
          logFile.write(s);
          if (o.verbose) process.stdout.write(s);
        },
      }).catch((e: unknown) => {
        logFile.end();
        throw e;
      });
      const exp = Math.floor(Date.now() / 1000) + (o.tokenTtlSec ?? 24 * 3600);
      const token = signToken({ kid: tokenKid, secret: tokenSecret, exp, title: SAMPLE_TITLE });
      const first = samples[0];
      const url = fileUrl(app.origin, first.fileId, token);
      const banner = [
        `${name}: serving ${app.origin}  (admin ${app.adminOrigin}; pid ${app.pid})`,
        `  store ${config.storeRoot} (${published.added} published now, ${published.kept} already held)`,
        controlUrl ? `  reports to control ${controlUrl} (site ${SITE_ID})` : '  not joined to control',
        `  log ${logPath}`,
        '  files (token valid 24 h, scoped to the title):',
        ...samples.map((s) => `    ${fileUrl(app.origin, s.fileId, token)}   (${s.bytes} bytes)`),
        '  try:',
        `    curl -s -D - -o /dev/null -H 'Range: bytes=0-1023' '${url}'`,
        `    curl -s '${app.adminOrigin}/v1/health'`,
        `    curl -s '${app.adminOrigin}/metrics' | head`,
        `    curl -s '${app.adminOrigin}/v1/status'`,
      ];
      return {
        name,
        banner,
        exports: { origin: app.origin, adminOrigin: app.adminOrigin, token },
        async stop() {
          await app.stop();
          logFile.end();
        },
      };
    },
  };
}
