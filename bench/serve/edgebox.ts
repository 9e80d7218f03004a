// The appliance side of the bench: files published into a fresh store through the store's API
// (with popularity ranks: hot files first, warm files after in Zipf order, so the RAM tier admits
// the hot set and the warm set's head), the daemon started with the same worker count as nginx,
// ranks sent again through the admin API, and a wait until the hot set is resident in RAM.

import type { BenchFile } from './dataset.ts';
import { startAppliance, writeApplianceConfig, type RunningAppliance } from '../../scripts/lib/appliance.ts';
import { publishFiles } from '../../scripts/lib/publish.ts';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../scripts/lib/free-port.ts';
import type { BenchCert } from './tls-cert.ts';

export interface EdgeboxOptions {
  dir: string;
  files: BenchFile[];
  /** ranked first (0…), in this order; the rest follow in list order */
  hotFileIds: string[];
  workers: number;
  ramTierBytes: number;
  tokenKeys: Record<string, string>;
  log: (msg: string) => void;
  /** extra node flags for the daemon, e.g. ['--cpu-prof', '--cpu-prof-dir=…'] */
  nodeArgs?: string[];
  /** run another tree's appliance/main.ts (small-cost.ts: two versions of the code in one run) */
  main?: string;
  /** also serve HTTPS (tls.mode beside) with this certificate */
  tls?: BenchCert;
  /** the config's storeTuning (e.g. promoteMargin: 1 keeps the RAM tier as admitted at start) */
  storeTuning?: Record<string, unknown>;
}

export interface Edgebox {
  origin: string;
  /** https:// origin when started with `tls` */
  tlsOrigin?: string;
  adminOrigin: string;
  /** Bearer token for the admin API (/v1/admin/files tells which files are in RAM) */
  adminToken: string;
  pid: number;
  workers: number;
  /** RAM-tier bytes resident when the bench started measuring (from /metrics), if known */
  ramResidentBytes: number | undefined;
  app: RunningAppliance;
  stop(): Promise<void>;
}

export async function startEdgebox(o: EdgeboxOptions): Promise<Edgebox> {
  const adminToken = randomBytes(18).toString('base64url');
  const tlsListen = o.tls ? `127.0.0.1:${await freePort()}` : undefined;
  const config = await writeApplianceConfig({
    dir: o.dir,
    applianceId: 'bench-1',
    tokenKeys: o.tokenKeys,
    adminToken,
    extra: {
      workers: o.workers,
      ramTierBytes: o.ramTierBytes,
      // same footing as the nginx config: no per-connection request cap, quiet logs
      maxRequestsPerSocket: 0,
      keepAliveTimeoutMs: 65_000,
      logLevel: 'warn',
      ...(o.storeTuning ? { storeTuning: o.storeTuning } : {}),
      ...(o.tls ? { tls: { mode: 'beside', listen: tlsListen, certFile: o.tls.certFile, keyFile: o.tls.keyFile, hostname: '127.0.0.1' } } : {}),
    },
  });
  const hot = new Set(o.hotFileIds);
  const order = [...o.hotFileIds, ...o.files.map((f) => f.fileId).filter((id) => !hot.has(id))];
  const rankOf = new Map(order.map((id, i) => [id, i]));
  const t0 = Date.now();
  const pub = await publishFiles(config, o.files.map((f) => ({
    fileId: f.fileId, path: f.path, bytes: f.bytes, sha256: f.sha256, kind: 'video' as const, rank: rankOf.get(f.fileId),
  })));
  o.log(`appliance: published ${pub.added} files through the store in ${Date.now() - t0} ms`);
  const app = await startAppliance(config, { nodeArgs: o.nodeArgs, main: o.main });
  o.log(`appliance: serving ${app.origin}, admin ${app.adminOrigin}, ${o.workers} workers`);
  const edgebox: Edgebox = {
    origin: app.origin,
    ...(tlsListen ? { tlsOrigin: `https://${tlsListen}` } : {}),
    adminOrigin: app.adminOrigin,
    adminToken,
    pid: app.pid,
    workers: o.workers,
    ramResidentBytes: undefined,
    app,
    stop: () => app.stop(),
  };
  try {
    await sendRanks(app.adminOrigin, adminToken, Object.fromEntries(rankOf), o.log);
    const hotBytes = o.files.filter((f) => hot.has(f.fileId)).reduce((a, f) => a + f.bytes, 0);
    if (hotBytes <= o.ramTierBytes) edgebox.ramResidentBytes = await waitRamResident(app.adminOrigin, hotBytes, o.log);
    else o.log(`appliance: the hot set does not fit a ${o.ramTierBytes}-byte RAM tier; serving from disk`);
  } catch (e) {
    await app.stop();
    throw e;
  }
  return edgebox;
}

/** The admin popularity call; ranks were also stored at publish time, so a failure is a warning. */
async function sendRanks(admin: string, token: string, ranks: Record<string, number>, log: (m: string) => void) {
  const res = await fetch(`${admin}/v1/admin/popularity`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ranks }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.ok) log(`appliance: popularity ranks set through the admin API (${Object.keys(ranks).length} files)`);
  else log(`appliance: WARNING admin popularity answered ${res.status}: ${text.slice(0, 200)} (ranks from publish time stand)`);
}

/**
 * Poll /metrics until the RAM tier holds at least `bytes` and has stopped changing for a little
 * over one rebalance period (the store admits in its background pass, every 10 s by default), so
 * measuring never overlaps RAM admission. Returns what it holds.
 */
export async function waitRamResident(admin: string, bytes: number, log: (m: string) => void): Promise<number | undefined> {
  const settleMs = 11_000;
  const deadline = Date.now() + 60_000;
  let last: number | undefined;
  let changedAt = Date.now();
  while (Date.now() < deadline) {
    const res = await fetch(`${admin}/metrics`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (res?.ok) {
      const now = ramBytesFromMetrics(await res.text());
      if (now !== last) changedAt = Date.now();
      last = now;
      if (last !== undefined && last >= bytes && Date.now() - changedAt >= settleMs) {
        log(`appliance: RAM tier holds ${(last / 2 ** 20).toFixed(0)} MiB, settled (hot set ${(bytes / 2 ** 20).toFixed(0)} MiB)`);
        return last;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(`appliance: WARNING RAM tier holds ${last === undefined ? 'unknown' : `${(last / 2 ** 20).toFixed(0)} MiB`} ` +
    `after 60 s (hot set ${(bytes / 2 ** 20).toFixed(0)} MiB, or still changing); measuring anyway`);
  return last;
}

/** The daemon's RAM-tier gauge (appliance/src/daemon/metrics.ts: edgebox_ram_tier_bytes). */
export function ramBytesFromMetrics(text: string): number | undefined {
  const m = /^edgebox_ram_tier_bytes(?:\{[^}]*\})?\s+([0-9.e+]+)\s*$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}
