// The whole product on loopback for the end-to-end browser test (scripts/test/e2e-browser.test.ts):
// a local BIRD as the ISP's router advertising 126.0.0.0/7 (around the viewer's loopback address) over
// one BGP session to each appliance of the embedded site lon-1 (2 appliances), an IX site ix-eu
// of 1, the origin and control (cluster launcher, real processes); a short real title made with
// ffmpeg and packaged by the real packager CLI, which publishes it to the origin and registers it
// with control; fill places it (promotion, plan, sites' windows open); and viewer accounts.

import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startChild, type Child } from '../../lib/child.ts';
import { startCluster, type Cluster, type ClusterAppliance } from '../../lib/cluster.ts';
import { fillWindowAt, ok, type ListedAppliance } from '../../lib/control-api.ts';
import { freePort } from '../../lib/free-port.ts';
import { makeMaster, VMAF_MODEL } from '../../../packager/test/helpers/masters.ts';
import { runNode } from '../../../packager/test/helpers/processes.ts';

const exec = promisify(execFile);

export const EMBEDDED = 'lon-1';
export const IX = 'ix-eu';
export const REGION = 'eu';
/** BIRD will not carry 127.0.0.0/8 itself (host scope, "Ignoring bogus route"): the smallest
 *  routable block around it stands for the ISP's customers (as the dev site does) */
export const VIEWER_PREFIX = '126.0.0.0/7';
const ROUTER_ASN = 65001;
const APPLIANCE_ASN = 64512;

export interface Viewer { accountId: string; apiToken: string; profiles: Record<string, string> }

export interface E2eSite {
  c: Cluster;
  titleId: string;
  /** fileIds of the title */
  files: string[];
  embedded: ClusterAppliance[];
  ix: ClusterAppliance;
  router: { address: string; port: number; birdc(cmd: string): Promise<string> };
  /** what each step took, ms */
  timings: Record<string, number>;
  account(name: string, plan: 'basic' | 'standard' | 'premium', profiles: string[]): Promise<Viewer>;
  /** start a killed appliance again and wait until control has its prefixes and the whole title from it */
  revive(a: ClusterAppliance): Promise<void>;
  stop(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 120_000, explain?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const why = explain ? await explain().catch((e) => String(e)) : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}\n${why}`);
}

function birdConfig(address: string, port: number, neighbors: string[]): string {
  return `# the embedded site's router for the end-to-end test: advertises the viewers' prefix to every appliance
log stderr all;
router id 10.255.0.1;
protocol device {}
protocol static viewers { ipv4; route ${VIEWER_PREFIX} blackhole; }
template bgp appliance {
  local ${address} port ${port} as ${ROUTER_ASN};
  passive on; multihop; hold time 9; connect retry time 1;
  ipv4 { import none; export where source = RTS_STATIC; };
}
${neighbors.map((n, i) => `protocol bgp appliance${i + 1} from appliance { neighbor ${n} as ${APPLIANCE_ASN}; }`).join('\n')}
`;
}

async function startBird(dir: string, config: string): Promise<{ child: Child; birdc(cmd: string): Promise<string> }> {
  const bird = ['/usr/sbin/bird', '/usr/bin/bird'].find(existsSync);
  const birdcBin = ['/usr/sbin/birdc', '/usr/bin/birdc'].find(existsSync);
  if (!bird || !birdcBin) throw new Error('BIRD is not installed (Debian package bird2): the end-to-end test needs it as the ISP router');
  writeFileSync(join(dir, 'bird.conf'), config);
  const sock = join(dir, 'bird.ctl');
  const log = createWriteStream(join(dir, 'bird.log'));
  const child = startChild('bird', bird, ['-f', '-c', join(dir, 'bird.conf'), '-s', sock, '-P', join(dir, 'bird.pid')], { onOutput: (s) => log.write(s) });
  child.exited.then(() => log.end(), () => log.end());
  const birdc = async (cmd: string) => (await exec(birdcBin, ['-s', sock, ...cmd.split(' ')])).stdout;
  await waitFor('bird to answer on its control socket', async () => {
    if (child.proc.exitCode !== null) throw new Error(`bird exited: ${child.output()}`);
    return (await birdc('show status')).includes('Daemon is up');
  }, 15_000, async () => child.output());
  return { child, birdc };
}

export async function startE2eSite(dir: string, o: { titleId: string; durationS: number; log?: (s: string) => void }): Promise<E2eSite> {
  const log = o.log ?? (() => {});
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    log(`${name}…`);
    const v = await fn();
    timings[name] = Date.now() - t;
    log(`${name}: ${timings[name]} ms`);
    return v;
  };
  // the router and the appliances' BGP ends on their own loopback addresses
  const net = `127.${10 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`;
  const routerAddress = `${net}.1`;
  const applianceAddress = (i: number) => `${net}.${2 + i}`;
  const routerPort = await freePort(routerAddress);
  const bird = await step('router (BIRD)', () => startBird(dir, birdConfig(routerAddress, routerPort, [applianceAddress(0), applianceAddress(1)])));

  let c: Cluster | undefined;
  try {
    const open = fillWindowAt(true);
    c = await step('cluster (origin, control, 2 + 1 appliances)', () => startCluster({
      dir: join(dir, 'cluster'),
      sites: [
        { siteId: EMBEDDED, kind: 'embedded', region: REGION, fillWindow: open, appliances: 2 },
        { siteId: IX, kind: 'ix', region: REGION, fillWindow: open, appliances: 1 },
      ],
      // plan when asked; a whole title may be added in one plan
      control: { fillPlanSchedule: '', fillChurnFraction: 1 },
      // the machine is shared with the test runner, Chromium and other tests: each appliance
      // reports its own CPU, or control would find every one overloaded and steer to the origin
      applianceDefaults: { loadCpu: 'process' },
      appliance: (siteId, i) => (siteId !== EMBEDDED ? undefined : {
        settings: {
          bgp: {
            localAsn: APPLIANCE_ASN, routerId: `10.255.1.${i + 1}`,
            neighbors: [{
              address: routerAddress, port: routerPort, localAddress: applianceAddress(i), peerAsn: ROUTER_ASN,
              holdTime: 9, connectRetry: 1, families: ['ipv4'],
              // the ISP's one customer block is a /7 (VIEWER_PREFIX)
              import: { ipv4Length: { min: 7, max: 32 } },
            }],
          },
        },
      }),
    }));
    const cluster = c;
    const embedded = cluster.site(EMBEDDED);
    const ix = cluster.site(IX)[0];
    const listed = async (a: ClusterAppliance): Promise<ListedAppliance | undefined> => (await cluster.control.api.appliances()).find((x) => x.applianceId === a.applianceId);
    const explainRoutes = async () => `${await bird.birdc('show protocols')}\n${JSON.stringify(await cluster.control.api.appliances(), null, 1)}`;
    await step('BGP: control has the viewer prefix from both embedded appliances', () => Promise.all(embedded.map((a) =>
      waitFor(`${a.name} to report ${VIEWER_PREFIX}`, async () => ((await listed(a))?.prefixes as number) > 0, 90_000, explainRoutes))));

    const work = join(dir, 'packager');
    const master = await step('master (ffmpeg)', () => makeMaster(dir, 'master.mp4', { kind: 'flat', width: 640, height: 360, durationS: o.durationS, languages: ['eng'] }));
    const config = join(dir, 'packager.json');
    writeFileSync(config, JSON.stringify({
      sampleShots: 2, shotSeconds: 1.5, trialBpp: [0.03, 0.1], vmafSubsample: 5, trialPreset: 'ultrafast', encodePreset: 'veryfast', maxRungs: 2, workDir: work,
    }));
    const cli = await step('package (packager CLI → origin store + control)', () => runNode([
      'packager/cli.ts', master, '--title', o.titleId, '--name', 'End to end', '--json', '--config', config, '--out', join(dir, 'out'),
      '--origin-store', cluster.origin.store, '--control', cluster.control.url, `--control-token=${cluster.secrets.packagerToken}`, // = form: a random token may start with '-'
      '--vmaf-model', VMAF_MODEL,
    ]));
    if (cli.code !== 0) throw new Error(`packager failed (${cli.code}): ${cli.stdout.slice(-1000)} ${cli.stderr.slice(-2000)}`);
    const api = cluster.control.api;
    const titles = ok(await api.op<Array<{ titleId: string; files: number }>>('GET', '/v1/titles'), 'GET /v1/titles');
    if (!titles.some((t) => t.titleId === o.titleId)) throw new Error(`control does not list ${o.titleId} after packaging: ${JSON.stringify(titles)}`);

    const availability = async () => ok(await api.op<any>('GET', `/v1/titles/${o.titleId}/availability`), 'availability');
    const holdsAll = async (a: ClusterAppliance) => (await availability()).appliances.some((x: any) => x.applianceId === a.applianceId && x.complete);
    await step('fill (promotion, plan, open window)', async () => {
      await api.promote(o.titleId, { regions: [REGION], expectedViews: 1000, releaseAt: Date.now() });
      await api.plan();
      await Promise.all([...embedded, ix].map((a) => waitFor(`${a.name} to hold the whole title`, () => holdsAll(a), 180_000,
        async () => JSON.stringify({ availability: await availability(), fill: await api.fillStatus() }, null, 1))));
    });
    const files = (await availability()).files as number;
    const manifest = JSON.parse(await (await fetch(`${cluster.origin.url}/v1/manifests/${o.titleId}.json`)).text());
    if (manifest.files.length !== files) throw new Error('manifest and availability disagree');

    return {
      c: cluster, titleId: o.titleId, files: manifest.files.map((f: { fileId: string }) => f.fileId), embedded, ix,
      router: { address: routerAddress, port: routerPort, birdc: bird.birdc },
      timings,
      async account(name, plan, profiles) {
        const acc = ok(await api.op<{ accountId: string; apiToken: string }>('POST', '/v1/accounts', { name, plan, region: REGION }), 'POST /v1/accounts', 201);
        const out: Record<string, string> = {};
        for (const p of profiles) {
          out[p] = ok(await api.op<{ profileId: string }>('POST', `/v1/accounts/${acc.accountId}/profiles`, { name: p }), 'POST profiles', 201).profileId;
        }
        return { accountId: acc.accountId, apiToken: acc.apiToken, profiles: out };
      },
      async revive(a) {
        await a.start();
        await waitFor(`${a.name} back with its prefixes, healthy, holding the title`, async () => {
          const l = await listed(a);
          return l && l.state === 'healthy' && (l.prefixes as number) > 0 && (await holdsAll(a));
        }, 120_000, explainRoutes);
      },
      async stop() {
        await cluster.stop();
        await bird.child.stop(5_000);
      },
    };
  } catch (e) {
    await c?.stop();
    await bird.child.stop(5_000);
    throw e;
  }
}
