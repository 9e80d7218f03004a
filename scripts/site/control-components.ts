// The site's control plane pieces: the packager's origin (the last source in every steering
// answer) and control (registry, steering, playback, licences). Control signs URL tokens with
// the site's key, the one the appliances verify.

import { join } from 'node:path';
import type { SiteComponent } from './component.ts';
import { serviceComponent } from './service-component.ts';
import { SITE_ID } from './state.ts';

export function originComponent(verbose = false): SiteComponent {
  return serviceComponent({
    name: 'origin',
    main: 'packager/origin.ts',
    configArgs: (p) => ['--config', p],
    config: (state, port) => ({
      host: '127.0.0.1',
      port,
      store: state.originStore,
      logLevel: 'info',
      // the key control signs with, so steering's last resort accepts the same URLs
      urlTokenKeys: { [state.secrets.tokenKid]: state.secrets.tokenSecret },
    }),
    banner: (url, state) => [
      `  store ${state.originStore} (\`npm run package\` publishes here)`,
      `    curl -s '${url}/healthz'`,
    ],
    exports: (url) => ({ originUrl: url }),
    verbose,
  });
}

export function controlComponent(verbose = false): SiteComponent {
  return serviceComponent({
    name: 'control',
    main: 'control/main.ts',
    configArgs: (p) => [p],
    config: (state, port, before) => {
      const s = state.secrets;
      const originUrl = before.find((c) => c.exports.originUrl)?.exports.originUrl;
      return {
        host: '127.0.0.1',
        port,
        publicUrl: `http://127.0.0.1:${port}`,
        ...(originUrl ? { originUrl } : {}),
        dbPath: join(state.componentDir('control'), 'control.db'),
        logLevel: 'info',
        operatorToken: s.operatorToken,
        packagerToken: s.packagerToken,
        urlTokenKid: s.tokenKid,
        urlTokenSecret: s.tokenSecret,
        kek: s.kek,
        ingestDir: state.ingestDir,
        enrollmentTokens: [{ token: state.enrollmentToken, siteId: SITE_ID }],
      };
    },
    // the site must exist before an appliance can enroll into it; PUT is idempotent
    afterStart: async (url, state) => {
      const res = await fetch(`${url}/v1/sites/${SITE_ID}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${state.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'embedded', region: 'local', timeZone: 'UTC' }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`control: creating site ${SITE_ID} answered ${res.status}: ${text.slice(0, 300)}`);
    },
    banner: (url, state) => [
      `  operator token in ${join(state.dir, 'secrets.json')}; titles ingested from ${state.ingestDir}`,
      `    curl -s '${url}/healthz'`,
      `    curl -s -H 'Authorization: Bearer <operatorToken>' '${url}/v1/appliances'`,
    ],
    exports: (url) => ({ controlUrl: url }),
    verbose,
  });
}
