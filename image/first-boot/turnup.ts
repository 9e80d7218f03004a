// The turn-up checks a box must pass before it serves (Open Connect's turn-up: interfaces,
// storage, connectivity to control and enrollment, BGP). Each check says what it found, so the
// console line is the diagnosis. The BGP check runs the appliance's own speaker against the
// configured neighbor until the session is Established, then closes it for the daemon.

import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import type { TurnupReport } from '../../protocol/index.ts';
import { BgpSettings } from '../../appliance/src/bgp/settings.ts';
import { BgpSpeaker } from '../../appliance/src/bgp/speaker.ts';
import { enroll } from '../../appliance/src/report/control-client.ts';
import { CredentialStore, type StoredCredential } from '../../appliance/src/report/credential-store.ts';
import { parseInterfaceAddress, publicUrlOf, type SiteConfig } from './site-config.ts';
import { sh } from './system.ts';

export type Check = TurnupReport['checks'][number];

const MIN_FREE_BYTES = 64 * 2 ** 20;

async function ipAddrs(iface: string): Promise<{ up: boolean; addrs: { addr: string; len: number; tentative: boolean }[] }> {
  const out = JSON.parse(await sh('ip', ['-j', 'addr', 'show', 'dev', iface])) as {
    operstate: string; flags: string[]; addr_info: { local: string; prefixlen: number; tentative?: boolean }[];
  }[];
  const l = out[0];
  return {
    up: !!l && (l.operstate === 'UP' || (l.operstate === 'UNKNOWN' && l.flags.includes('LOWER_UP'))),
    addrs: (l?.addr_info ?? []).map((a) => ({ addr: a.local, len: a.prefixlen, tentative: !!a.tentative })),
  };
}

/** The serving interface is up and holds every configured address (IPv6 past duplicate detection). */
export async function checkInterfaces(c: SiteConfig, iface: string): Promise<Check> {
  let st;
  try {
    st = await ipAddrs(iface);
  } catch (e) {
    return { name: 'interfaces', ok: false, waived: false, detail: `${iface}: ${(e as Error).message.split('\n')[0]}` };
  }
  if (!st.up) return { name: 'interfaces', ok: false, waived: false, detail: `${iface} has no link (cable, switch port or VLAN?)` };
  const want = [c.ipv4.address, ...(c.ipv6 ? [c.ipv6.address] : [])];
  const missing: string[] = [];
  for (const w of want) {
    const fam = w.includes(':') ? 6 : 4;
    const p = parseInterfaceAddress(w, fam)!;
    const host = w.split('/')[0];
    const have = st.addrs.find((a) => a.len === p.length && (a.addr === host || (fam === 6 && a.addr.toLowerCase() === host.toLowerCase())));
    if (!have) missing.push(`${w} missing`);
    else if (have.tentative) missing.push(`${w} still in duplicate address detection`);
  }
  if (missing.length > 0) return { name: 'interfaces', ok: false, waived: false, detail: `${iface}: ${missing.join('; ')}` };
  return { name: 'interfaces', ok: true, waived: false, detail: `${iface} up with ${want.join(', ')}` };
}

/** Every store root exists, takes a write + fsync + read back, has room, and its filesystem has no recorded errors. */
export async function checkStore(roots: string[]): Promise<Check> {
  const problems: string[] = [];
  const good: string[] = [];
  for (const root of roots) {
    const probe = join(root, `.turnup-${randomBytes(4).toString('hex')}`);
    try {
      const data = randomBytes(1 << 20);
      const fh = await open(probe, 'w');
      try { await fh.writeFile(data); await fh.sync(); } finally { await fh.close(); }
      const back = readFileSync(probe);
      if (!back.equals(data)) throw new Error('read back differs from what was written');
      const fs = await statfs(root);
      const free = fs.bavail * fs.bsize;
      if (free < MIN_FREE_BYTES) throw new Error(`only ${(free / 2 ** 20).toFixed(0)} MiB free`);
      const errors = await ext4Errors(root);
      if (errors > 0) throw new Error(`filesystem has recorded ${errors} errors (run a disk check)`);
      good.push(`${root} writable, ${(free / 2 ** 30).toFixed(1)} GiB free`);
    } catch (e) {
      problems.push(`${root}: ${(e as Error).message}`);
    } finally {
      await rm(probe, { force: true });
    }
  }
  return problems.length > 0
    ? { name: 'store', ok: false, waived: false, detail: problems.join('; ') }
    : { name: 'store', ok: true, waived: false, detail: good.join('; ') };
}

async function ext4Errors(path: string): Promise<number> {
  try {
    const dev = (await sh('findmnt', ['-n', '-o', 'SOURCE', '--target', path])).trim().split('/').pop();
    const f = `/sys/fs/ext4/${dev}/errors_count`;
    return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
  } catch {
    return 0;
  }
}

/** Control answers, and the box holds a credential (enrolling now with the one-time token if not). */
export async function checkControl(c: SiteConfig, stateDir: string, owner?: { uid: number; gid: number }): Promise<{ check: Check; credential: StoredCredential | null }> {
  const fail = (detail: string) => ({ check: { name: 'control' as const, ok: false, waived: false, detail }, credential: null });
  try {
    const r = await fetch(new URL('/healthz', c.controlUrl), { signal: AbortSignal.timeout(10_000) });
    if (!r.ok) return fail(`${c.controlUrl} answered ${r.status}`);
  } catch (e) {
    return fail(`${c.controlUrl} unreachable: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const store = new CredentialStore(stateDir);
  let cred = await store.load();
  if (!cred || cred.controlUrl !== c.controlUrl) {
    try {
      const reply = await enroll(c.controlUrl, {
        enrollmentToken: c.enrollmentToken, name: c.name, publicUrl: publicUrlOf(c), ...(c.siteId ? { siteId: c.siteId } : {}),
      }, 10_000);
      cred = { controlUrl: c.controlUrl, ...reply };
      await store.save(cred);
      if (owner) chownSync(store.file, owner.uid, owner.gid);
    } catch (e) {
      return fail(`enrollment refused: ${(e as Error).message}`);
    }
  }
  return { check: { name: 'control', ok: true, waived: false, detail: `reachable; enrolled as ${cred.applianceId} (site ${cred.siteId})` }, credential: cred };
}

/** The BGP session with the ISP's router reaches Established (or the site config waives it). */
export async function checkBgp(c: SiteConfig, timeoutMs = 60_000): Promise<Check> {
  if ('waive' in c.bgp) return { name: 'bgp', ok: true, waived: true, detail: 'waived by the site config: serving without a BGP session' };
  const settings = BgpSettings.parse({
    localAsn: c.bgp.localAsn, routerId: c.ipv4.address.split('/')[0],
    listenPort: c.bgp.passive ? 179 : 0,
    neighbors: [{ address: c.bgp.neighbor, peerAsn: c.bgp.peerAsn, passive: c.bgp.passive, connectRetry: 5 }],
  });
  const speaker = new BgpSpeaker(settings, { logger: pino({ level: 'silent' }) });
  await speaker.start();
  try {
    const deadline = Date.now() + timeoutMs;
    let state = 'Idle';
    while (Date.now() < deadline) {
      state = speaker.status()[0]?.state ?? 'Idle';
      if (state === 'Established') return { name: 'bgp', ok: true, waived: false, detail: `session with ${c.bgp.neighbor} (AS${c.bgp.peerAsn}) established` };
      await new Promise((r) => setTimeout(r, 500));
    }
    return { name: 'bgp', ok: false, waived: false, detail: `session with ${c.bgp.neighbor} (AS${c.bgp.peerAsn}) not established (last state ${state})` };
  } finally {
    await speaker.stop();
  }
}
