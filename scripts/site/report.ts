// What `npm start` prints once the site is ready: the pages to open (control serves them), the
// services and their logs, and a table of the appliances as control sees them. The same facts go
// to site.json in the site directory, for scripts and tests that drive a running site.

import type { Cluster } from '../lib/cluster.ts';
import type { ListedAppliance } from '../lib/control-api.ts';
import type { DemoAccount } from './demo-account.ts';
import type { SiteRouter } from './router.ts';

export interface SiteFacts {
  controlUrl: string;
  originUrl: string;
  /** the pages, with the token in the fragment (never sent to a server, never in a log) */
  playerUrl: string;
  statusUrl: string;
  titleId: string;
  account: DemoAccount;
  operatorToken: string;
  router: { kind: SiteRouter['kind']; port: number };
  appliances: Array<{ name: string; siteId: string; applianceId: string; origin: string; adminOrigin: string; pid: number | undefined }>;
  pids: number[];
}

export function siteFacts(c: Cluster, router: SiteRouter, account: DemoAccount, titleId: string): SiteFacts {
  const controlUrl = c.control.url;
  return {
    controlUrl,
    originUrl: c.origin.url,
    // the pages' sign-in links (control/src/ui/player/player.js, control/src/ui/status/status.js)
    playerUrl: `${controlUrl}/ui/player/#account=${account.apiToken}`,
    statusUrl: `${controlUrl}/ui/status/#token=${c.secrets.operatorToken}`,
    titleId,
    account,
    operatorToken: c.secrets.operatorToken,
    router: { kind: router.kind, port: router.port },
    appliances: c.appliances.map((a) => ({ name: a.name, siteId: a.siteId, applianceId: a.applianceId, origin: a.origin, adminOrigin: a.adminOrigin, pid: a.pid })),
    pids: [c.origin.pid, c.control.pid, ...c.appliances.map((a) => a.pid ?? 0), router.pid ?? 0].filter((p) => p > 0),
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((x, i) => x.padEnd(widths[i])).join('  ')}`.trimEnd());
}

/** appliances as control lists them: state, BGP, prefixes learned, files held */
export function statusTable(listed: ListedAppliance[]): string[] {
  const rows = [['appliance', 'site', 'kind', 'state', 'bgp', 'prefixes', 'files', 'serves at']];
  for (const a of [...listed].sort((x, y) => x.name.localeCompare(y.name))) {
    const bgp = (a.bgp as Array<{ state: string }> | undefined) ?? [];
    rows.push([
      a.name, a.siteId, String(a.siteKind ?? ''), a.state,
      bgp.length ? bgp.map((s) => s.state).join(',') : '-',
      String(a.prefixes ?? 0), String(a.files), a.publicUrl,
    ]);
  }
  return table(rows);
}

export function banner(f: SiteFacts, c: Cluster, router: SiteRouter, listed: ListedAppliance[], o: { logsDir: string; sample: string }): string[] {
  return [
    '',
    'Open in a browser on this machine:',
    `  player  ${f.playerUrl}`,
    `          (signed in as "${f.account.name}", ${f.account.plan} plan, region ${f.account.region}; title "${f.titleId}")`,
    `  status  ${f.statusUrl}`,
    '',
    'Services:',
    `  control   ${f.controlUrl}   (pid ${c.control.pid}; log ${c.control.logPath})`,
    `  origin    ${f.originUrl}   (pid ${c.origin.pid}; store ${c.origin.store})`,
    `  router    ${router.describe}`,
    ...c.appliances.map((a) => `  ${a.name.padEnd(9)} ${a.origin}   (admin ${a.adminOrigin}; pid ${a.pid}; log ${a.logPath})`),
    `  sample    ${o.sample}`,
    '',
    'Try:',
    `  curl -s -H 'Authorization: Bearer ${f.operatorToken}' ${f.controlUrl}/v1/appliances`,
    `  curl -s -H 'Authorization: Bearer ${f.operatorToken}' '${f.controlUrl}/v1/steering?ip=127.0.0.1&titleId=${f.titleId}&region=${f.account.region}'`,
    `  curl -s -X POST -H 'Authorization: Bearer ${f.account.apiToken}' -H 'content-type: application/json' \\`,
    `       -d '{"titleId":"${f.titleId}","profileId":"${f.account.profileId}","device":"curl"}' ${f.controlUrl}/v1/playback`,
    `  curl -s ${c.appliances[0]?.adminOrigin}/v1/status`,
    `  npm run package -- <master.mp4> --title <id>    (published to the site's origin; control ingests it)`,
    '',
    'Appliances (as control sees them):',
    ...statusTable(listed),
    '',
    `Logs under ${o.logsDir}`,
  ];
}
