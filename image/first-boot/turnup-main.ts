// edgebox-turnup.service: run the turn-up checks until they all pass, showing each round on the
// console and reporting it to control whenever the box holds a credential. Exits 0 when every
// check passed, which lets edgebox-appliance.service (and so serving) start.

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { applianceTurnupPath, type TurnupReport } from '../../protocol/index.ts';
import type { StoredCredential } from '../../appliance/src/report/credential-store.ts';
import { announce } from './console.ts';
import { DAEMON_USER, PATHS } from './paths.ts';
import { checkSiteConfig } from './site-config.ts';
import { imageVersion, sh } from './system.ts';
import { checkBgp, checkControl, checkInterfaces, checkStore, type Check } from './turnup.ts';

const ROUND_MS = Number(process.env.EDGEBOX_TURNUP_ROUND_MS ?? 15_000);
const INTERFACE_WAIT_MS = 30_000;

async function report(cred: StoredCredential, body: TurnupReport): Promise<void> {
  try {
    const r = await fetch(new URL(applianceTurnupPath(cred.applianceId), cred.controlUrl), {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${cred.credential}` },
      body: JSON.stringify(body), signal: AbortSignal.timeout(5_000),
    });
    if (!r.ok) announce(`edgebox turn-up: control refused the report (${r.status})`);
  } catch (e) {
    announce(`edgebox turn-up: could not report to control: ${(e as Error).message}`);
  }
}

async function save(body: TurnupReport): Promise<void> {
  for (const p of [PATHS.turnupNow, PATHS.turnupLast]) {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, JSON.stringify(body, null, 2) + '\n');
  }
}

async function main(): Promise<void> {
  const site = checkSiteConfig(JSON.parse(readFileSync(PATHS.siteConfig, 'utf8')));
  if (!site.ok) throw new Error(`site config: ${site.errors.join('; ')}`);
  const c = site.config;
  const iface = readFileSync(PATHS.iface, 'utf8').trim();
  const owner = { uid: Number((await sh('id', ['-u', DAEMON_USER])).trim()), gid: Number((await sh('id', ['-g', DAEMON_USER])).trim()) };
  const version = imageVersion();
  for (let round = 1; ; round++) {
    // interfaces come up with networkd just before us: give them a moment on the first round
    let ifc: Check = await checkInterfaces(c, iface);
    for (const until = Date.now() + INTERFACE_WAIT_MS; !ifc.ok && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 1_000));
      ifc = await checkInterfaces(c, iface);
    }
    const store = await checkStore([PATHS.store]);
    const control = await checkControl(c, PATHS.state, owner);
    const bgp = await checkBgp(c);
    const checks = [ifc, store, control.check, bgp];
    const passed = checks.every((x) => x.ok);
    const body: TurnupReport = { passed, version, checks, at: Date.now() };
    await save(body);
    announce([
      ...checks.map((x) => `edgebox turn-up: ${x.ok ? (x.waived ? 'WAIVED' : 'PASS') : 'FAIL'} ${x.name}: ${x.detail}`),
      passed ? 'edgebox turn-up: all checks passed; serving starts' : `edgebox turn-up: round ${round} failed; nothing serves until every check passes (next try in ${ROUND_MS / 1000} s)`,
    ]);
    if (control.credential) await report(control.credential, body);
    if (passed) return;
    await new Promise((r) => setTimeout(r, ROUND_MS));
  }
}

main().catch((e: unknown) => {
  announce(`edgebox turn-up: ${(e as Error).message}`);
  process.exit(1);
});
