// What the appliance's disk tier costs per byte, against nginx on the same files: the warm
// workload's ranges (1–2 MiB, Zipf over 40 × 8 MiB files) with every file on the disk tier (no
// RAM tier), rounds alternating appliance and nginx (sendfile off, as the serve bench chose on
// this machine). The figures are CPU-seconds per GiB served (both servers) and the appliance's
// context switches and minor page faults per MiB (not counted for nginx's worker processes: NaN,
// 0), which hold up on a machine loaded by others where Gb/s does not; p50/p99 are printed too.
//
// Variants of the appliance's environment (UV_THREADPOOL_SIZE…) are compared in one run, each
// on its own daemon:
//
//   node bench/serve/disk-cost.ts [seconds=8] [rounds=3] ['name:ENV=v,ENV=v' …]

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { writeFileSet } from './dataset.ts';
import { startEdgebox } from './edgebox.ts';
import { round3 } from './measurement.ts';
import { startNginx } from './nginx.ts';
import { measured, type Target } from './rounds.ts';
import { FILE_BYTES, WARM_FILES, WORKLOADS } from './workloads.ts';
import { envVariants, withEnv } from './variants.ts';

const seconds = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const variants = envVariants(process.argv.slice(4));
const warm = WORKLOADS.find((w) => w.name === 'warm')!;
const log = (m: string) => console.log(`[disk-cost] ${m}`);

/** Minor page faults of a process (field 10 of /proc/<pid>/stat, every thread). */
function faults(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[7]);
}

/** Context switches (voluntary + involuntary) of every thread of a process tree's root. */
function switches(pid: number): number {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
    } catch {
      // the thread ended
    }
  }
  return n;
}

const work = mkdtempSync(join(tmpdir(), 'edgebox-disk-cost-'));
chmodSync(work, 0o755);
const rows: Array<{ who: string; cpuPerGiB: number; csPerMiB: number; faultsPerMiB: number; gbps: number; p50: number; p99: number; load: number }> = [];
try {
  const files = writeFileSet(join(work, 'docroot'), { titleId: 'bench-warm', count: WARM_FILES, bytes: FILE_BYTES });
  const kid = 'bench';
  const secret = randomBytes(24).toString('base64url');
  const token = signToken({ kid, secret, exp: Math.floor(Date.now() / 1000) + 3600, title: 'bench-warm' });
  const ranges = files.map((f) => ({ path: fileUrl('', f.fileId, token), bytes: f.bytes }));
  const ng = await startNginx({ docroot: join(work, 'docroot'), prefix: join(work, 'nginx'), sendfile: false });
  const one = async (t: Target, who: string, tree: boolean) => {
    const cs0 = tree ? 0 : switches(t.pid);
    const pf0 = faults(t.pid);
    const r = await measured(warm, t, ranges, seconds, work);
    const cs = tree ? Number.NaN : switches(t.pid) - cs0;
    const pf = faults(t.pid) - pf0;
    const gib = r.bytes / 2 ** 30;
    const row = {
      who,
      cpuPerGiB: round3((r.cpu * r.seconds) / gib),
      csPerMiB: round3(cs / (gib * 1024)),
      faultsPerMiB: round3(pf / (gib * 1024)),
      gbps: round3((r.bytes * 8) / r.seconds / 1e9),
      p50: r.p50_ms,
      p99: r.p99_ms,
      load: round3(loadavg()[0]),
    };
    rows.push(row);
    log(`${who}: ${row.cpuPerGiB} CPU-s/GiB, ${row.csPerMiB} switches/MiB, ${row.faultsPerMiB} faults/MiB, ${row.gbps} Gb/s, p50 ${row.p50} ms, p99 ${row.p99} ms, load ${row.load}${r.errors ? `, ERRORS ${r.errors}` : ''}`);
  };
  try {
    for (const v of variants) {
      // the daemon inherits this process's environment when it starts
      const eb = await withEnv(v.env, () => startEdgebox({
        dir: join(work, `appliance-${v.name}`),
        files,
        hotFileIds: [],
        workers: availableParallelism(),
        ramTierBytes: 0,
        tokenKeys: { [kid]: secret },
        log,
      }));
      try {
        const targets: Target[] = [
          { name: 'edgebox', origin: eb.origin, pid: eb.pid },
          { name: 'nginx', origin: ng.origin, pid: ng.child.pid },
        ];
        for (const t of targets) await measured(warm, t, ranges, 2, work); // warm-up
        for (let i = 0; i < rounds; i++) {
          for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
            await one(t, t.name === 'nginx' ? 'nginx' : v.name, t.name === 'nginx');
          }
        }
      } finally {
        await eb.stop();
      }
    }
  } finally {
    await ng.stop();
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('\nwho\tCPU-s/GiB (median)\tswitches/MiB\tfaults/MiB\tp99 ms (median)\trounds');
  for (const who of [...new Set(rows.map((r) => r.who))]) {
    const rs = rows.filter((r) => r.who === who);
    console.log(`${who}\t${median(rs.map((r) => r.cpuPerGiB))}\t${median(rs.map((r) => r.csPerMiB))}\t${median(rs.map((r) => r.faultsPerMiB))}\t${median(rs.map((r) => r.p99))}\t${rs.length}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
// as bench:serve (main.ts): something the run opened can keep the loop alive after cleanup
process.exit(0);
