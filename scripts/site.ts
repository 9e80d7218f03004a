// `npm start`: a whole Edgebox site on this machine, as real processes on loopback.
//
//   the origin, control (which serves the player and status pages), an ISP's embedded site of two
//   appliances whose BGP neighbor is a local BIRD advertising the loopback prefixes (the site's
//   static announcer if BIRD is missing), and an IX site of one appliance; a sample title made
//   with ffmpeg and packaged by the real packager on the first run, registered with control and
//   placed on the appliances by fill; a demo viewer account. Then it prints the URLs and a status
//   table, and waits. Ctrl-C (or SIGTERM) stops every process and exits 0.
//
//   node scripts/site.ts [--verbose]
//   EDGEBOX_SITE_DIR=<dir>     state somewhere else than .data/site (tests)
//   EDGEBOX_SITE_SAMPLE=quick  a 12 s 360p sample instead of 30 s at 720p
//   EDGEBOX_SITE_ROUTER=static the static announcer even when BIRD is installed
//
// Everything it makes is kept in the site directory, so a second start reuses it: the packaged
// title, control's database, the appliances' stores and credentials, the account, the ports.

import { join } from 'node:path';
import { startCluster, type Cluster } from './lib/cluster.ts';
import { ensureDemoAccount } from './site/demo-account.ts';
import { placeTitle, steeringFor, waitPrefixes } from './site/placement.ts';
import { banner, siteFacts } from './site/report.ts';
import { startRouter, type SiteRouter } from './site/router.ts';
import { ensureSampleTitle, sampleSpec } from './site/sample-title.ts';
import { settlePorts } from './site/ports.ts';
import { openSiteState } from './site/state.ts';
import { applianceBgpAddress, EMBEDDED_SITE, embeddedBgpSettings, IX_SITE, localTimeZone, siteSpecs } from './site/topology.ts';

const GiB = 1024 ** 3;
const EMBEDDED_APPLIANCES = 2;

class Stopped extends Error {}

async function main(): Promise<number> {
  const verbose = process.argv.includes('--verbose');
  const state = openSiteState(process.env.EDGEBOX_SITE_DIR || undefined);
  if (state.notice) console.log(state.notice);
  const echo = (name: string) => (verbose ? (s: string) => process.stdout.write(`[${name}] ${s}`) : undefined);

  // Ctrl-C during start-up stops after the step in progress; once ready, at once
  let stopRequested = false;
  let cluster: Cluster | undefined;
  let router: SiteRouter | undefined;
  let wake: (() => void) | undefined;
  const abort = new AbortController();
  const onSignal = (signal: string) => {
    if (stopRequested) return;
    stopRequested = true;
    console.log(`\nsite: ${signal}: stopping`);
    abort.abort();
    wake?.();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const step = <T>(p: Promise<T>): Promise<T> => p.then((v) => {
    if (stopRequested) throw new Stopped();
    return v;
  });

  try {
    console.log(`site: state in ${state.dir}`);
    const spec = sampleSpec();
    const sample = await step(ensureSampleTitle(state, spec));
    console.log(sample.made ? `site: sample title packaged: ${sample.summary}` : `site: sample title from the cache: ${sample.summary}`);

    router = await step(startRouter(state, EMBEDDED_APPLIANCES, echo('bird')));
    console.log(router.kind === 'bird'
      ? `site: BGP: ${router.describe}`
      : process.env.EDGEBOX_SITE_ROUTER === 'static'
        ? `site: BGP: ${router.describe} (EDGEBOX_SITE_ROUTER=static)`
        : `site: BIRD is not installed (Debian package bird2): the embedded site's router is a static announcer in this process (${router.describe})`);

    await settlePorts(state, (l) => console.log(l));
    const tz = localTimeZone();
    const storeOf = (name: string, bytes: number) => ({ storage: [{ path: join(state.clusterDir, name, 'store'), type: 'ssd', maxBytes: bytes }] });
    const routerPort = router.port;
    console.log(`site: starting the origin, control, ${EMBEDDED_SITE} (${EMBEDDED_APPLIANCES} embedded appliances, BGP from ${applianceBgpAddress(0)}…) and ${IX_SITE} (1 IX appliance)`);
    cluster = await step(startCluster({
      dir: state.clusterDir,
      originStore: state.originStore,
      secrets: state.secrets,
      sites: siteSpecs(tz),
      control: {
        ingestDir: state.ingestDir,
        reportIntervalMs: 2_000,
        // a title packaged while the site runs is planned within minutes
        fillPlanSchedule: '*/5 * * * *',
      },
      appliance: (siteId, i) => siteId === EMBEDDED_SITE
        ? { settings: { ...storeOf(`${siteId}-${i + 1}`, 4 * GiB), bgp: embeddedBgpSettings(i, routerPort) } }
        : { settings: storeOf(`${siteId}-${i + 1}`, 8 * GiB) },
      // three appliances share this machine with everything else: each reports its own CPU
      applianceDefaults: { loadCpu: 'process' },
      port: (name) => state.port(name),
      onOutput: verbose ? (name, s) => process.stdout.write(`[${name}] ${s}`) : undefined,
    }));
    const api = cluster.control.api;

    const titleId = sample.record.title.titleId;
    const titles = (await api.op<Array<{ titleId: string }>>('GET', '/v1/titles')).body ?? [];
    if (!titles.some((t) => t.titleId === titleId)) {
      await step(api.registerTitle(sample.record));
      console.log(`site: registered "${titleId}" with control`);
    }
    const { account, made } = await step(ensureDemoAccount(state, api));
    console.log(`site: demo account ${account.accountId} (${made ? 'created' : 'kept from the last run'})`);

    console.log(`site: fill: planning and opening ${EMBEDDED_SITE} and ${IX_SITE} now (fill-now), outside their 02:00–14:00 ${tz} window`);
    await step(placeTitle(api, {
      titleId, sites: [EMBEDDED_SITE, IX_SITE], timeoutMs: 300_000, log: (l) => console.log(l), signal: abort.signal,
    }));
    await step(waitPrefixes(api, EMBEDDED_SITE, { timeoutMs: 60_000, signal: abort.signal }));
    const steer = await steeringFor(api, titleId);
    const byId = new Map(cluster.appliances.map((a) => [a.applianceId, a.name]));
    const path = steer.targets.map((t) => (t.applianceId ? byId.get(t.applianceId) ?? t.applianceId : t.tier)).join(' → ');
    console.log(`site: a viewer at 127.0.0.1 is steered to ${path}${steer.miss ? ` (steering miss: ${steer.miss})` : ''}`);

    const listed = await api.appliances();
    const facts = siteFacts(cluster, router, account, titleId);
    state.writeJson('site.json', facts);
    console.log(banner(facts, cluster, router, listed, { logsDir: state.clusterDir, sample: sample.summary }).join('\n'));
    console.log('\nsite: ready (Ctrl-C stops)');

    await new Promise<void>((resolve) => {
      wake = resolve;
      if (stopRequested) resolve();
    });
    return 0;
  } catch (e) {
    if (e instanceof Stopped || stopRequested) return 0;
    console.error(`site: ${e instanceof Error ? e.message : String(e)}`);
    if (cluster) console.error(`site: logs under ${state.clusterDir}`);
    return 1;
  } finally {
    // appliances first (they drain), then control and the origin, then the router
    await cluster?.stop().catch((e) => console.error(`site: stopping the cluster: ${e instanceof Error ? e.message : e}`));
    await router?.stop().catch((e) => console.error(`site: stopping the router: ${e instanceof Error ? e.message : e}`));
    if (cluster || router) console.log('site: stopped');
  }
}

// ordinary errors are one line (main's catch); anything else still must not leave processes behind
main().then((code) => process.exit(code), (e) => {
  console.error(`site: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
