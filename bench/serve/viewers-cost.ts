// What a viewer costs each server in CPU: the viewers workload's players (same catalogue, same
// RAM-tier split, same seeded client) at one fixed count, rounds alternating between nginx
// (sendfile off, as the serve bench chose) and each appliance variant. The figures are the
// server's CPU-µs per segment and CPU-s per GiB — (utime + stime) of its process tree over the
// measured window ÷ segments (or bytes) answered — which hold up on a machine loaded by others
// where "most viewers that pass" does not; the on-time share (all, and disk titles only) and p99
// are printed too.
//
// Variants of the appliance's environment are compared in one run, each on its own daemon:
//
//   [VIEWERS_COST_PROFILE=dir] [VIEWERS_COST_TLS=1] node bench/serve/viewers-cost.ts [viewers=1500] [seconds=14] [rounds=3] ['name:ENV=v,ENV=v' …]
//
// VIEWERS_COST_TLS=1: the players connect to both servers' HTTPS listeners (the serve bench's
// certificate and TLS policy, tls-cert.ts) instead of plain HTTP.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { startEdgebox } from './edgebox.ts';
import { round3 } from './measurement.ts';
import { startNginx } from './nginx.ts';
import { makeBenchCert } from './tls-cert.ts';
import { RAM_TIER_BYTES } from './workloads.ts';
import { DEADLINE_MS, PERIOD_MS, REQUEST_TIMEOUT_MS, runViewerStep, titleIdOf, VIEWER_TITLES, VIEWER_ZIPF_S, WARMUP_MS, writeCatalogue } from './viewers.ts';
import type { RenditionFile } from './viewers-plan.ts';
import { envVariants, withEnv } from './variants.ts';

const viewers = Number(process.argv[2] ?? 1500);
const seconds = Number(process.argv[3] ?? 14);
const rounds = Number(process.argv[4] ?? 3);
const variants = envVariants(process.argv.slice(5));
const tls = process.env.VIEWERS_COST_TLS === '1';
const log = (m: string) => console.log(`[viewers-cost] ${m}`);

interface Row {
  who: string;
  usPerSegment: number;
  cpuPerGiB: number;
  onTime: number;
  onTimeDisk: number | null;
  p99: number;
  cpu: number;
  load: number;
}

const work = mkdtempSync(join(tmpdir(), 'edgebox-viewers-cost-'));
chmodSync(work, 0o755);
const rows: Row[] = [];
const running: Array<{ stop(): Promise<void> }> = [];
try {
  const docroot = join(work, 'docroot');
  const { files, layouts } = writeCatalogue(docroot, VIEWER_TITLES);
  const kid = 'bench';
  const secret = randomBytes(24).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const titles: RenditionFile[][] = files.map((fs, t) => {
    const token = signToken({ kid, secret, exp, title: titleIdOf(t) });
    return fs.map((f, r) => ({ ...layouts[r], path: fileUrl('', f.fileId, token) }));
  });
  const titleBytes = layouts.reduce((a, l) => a + l.bytes, 0);
  const ramTitleCount = Math.min(VIEWER_TITLES, Math.floor(RAM_TIER_BYTES / titleBytes));
  const ramTitles = Array.from({ length: ramTitleCount }, (_, t) => t);
  const cert = tls ? makeBenchCert(join(work, 'tls')) : undefined;
  const ng = await startNginx({ docroot, prefix: join(work, 'nginx'), sendfile: false, tls: cert });
  running.push(ng);
  const targets: Array<{ who: string; origin: string; pid: number }> = [];
  for (const v of variants) {
    // the daemon inherits this process's environment when it starts
    const eb = await withEnv(v.env, () => startEdgebox({
      dir: join(work, `appliance-${v.name}`),
      files: files.flat(),
      hotFileIds: files.slice(0, ramTitleCount).flat().map((f) => f.fileId),
      workers: availableParallelism(),
      ramTierBytes: RAM_TIER_BYTES,
      tokenKeys: { [kid]: secret },
      log,
      storeTuning: { promoteMargin: 1 },
      tls: cert,
      // VIEWERS_COST_PROFILE=<dir>: every daemon under --cpu-prof (summarise with profile-summary.ts)
      ...(process.env.VIEWERS_COST_PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(process.env.VIEWERS_COST_PROFILE, v.name)}`] } : {}),
    }));
    running.push(eb);
    targets.push({ who: v.name, origin: tls ? eb.tlsOrigin! : eb.origin, pid: eb.pid });
  }
  targets.push({ who: 'nginx', origin: tls ? ng.tlsOrigin! : ng.origin, pid: ng.child.pid });
  for (let i = 0; i < rounds; i++) {
    for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
      const r = await runViewerStep({
        origin: t.origin,
        caPem: cert?.caPem,
        titles,
        viewers,
        seed: 20261202,
        zipfS: VIEWER_ZIPF_S,
        periodMs: PERIOD_MS,
        deadlineMs: DEADLINE_MS,
        warmupMs: WARMUP_MS,
        measureMs: seconds * 1000 - WARMUP_MS,
        timeoutMs: REQUEST_TIMEOUT_MS,
      }, t.pid, 2);
      const seg = r.measured.segments;
      const answered = seg.onTime + seg.late + r.measured.small.onTime + r.measured.small.late;
      const bytes = seg.bytes + r.measured.small.bytes;
      const disk = r.by_title.filter((_, k) => !ramTitles.includes(k));
      const diskReq = disk.reduce((a, x) => a + x.requested, 0);
      const row: Row = {
        who: t.who,
        usPerSegment: round3((r.server_cpu * r.measure_seconds * 1e6) / Math.max(1, answered)),
        cpuPerGiB: round3((r.server_cpu * r.measure_seconds) / (bytes / 2 ** 30)),
        onTime: r.on_time_share,
        onTimeDisk: diskReq > 0 ? round3(disk.reduce((a, x) => a + x.onTime, 0) / diskReq) : null,
        p99: r.segment_p99_ms,
        cpu: r.server_cpu,
        load: round3(loadavg()[0]),
      };
      rows.push(row);
      log(`${t.who}: ${row.usPerSegment} CPU-µs/request, ${row.cpuPerGiB} CPU-s/GiB, on time ${row.onTime} (disk titles ${row.onTimeDisk}), ` +
        `p99 ${row.p99} ms, cpu ${row.cpu}, client ${r.client_cpu}, load ${row.load}, connections ${r.connections_opened}` +
        (Object.keys(r.failures).length ? `, failures ${JSON.stringify(r.failures)}` : ''));
    }
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\n${viewers} viewers over ${tls ? 'HTTPS' : 'HTTP'}\nwho\tCPU-µs/request (median)\tCPU-s/GiB\ton time\ton time disk\tp99 ms\trounds`);
  for (const who of targets.map((t) => t.who)) {
    const rs = rows.filter((r) => r.who === who);
    console.log(`${who}\t${median(rs.map((r) => r.usPerSegment))}\t${median(rs.map((r) => r.cpuPerGiB))}\t${median(rs.map((r) => r.onTime))}\t` +
      `${median(rs.map((r) => r.onTimeDisk ?? Number.NaN))}\t${median(rs.map((r) => r.p99))}\t${rs.length}`);
  }
} finally {
  await Promise.allSettled(running.map((r) => r.stop()));
  rmSync(work, { recursive: true, force: true });
}
// as bench:serve (main.ts): something the run opened can keep the loop alive after cleanup
process.exit(0);
