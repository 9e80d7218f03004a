// What a small range costs each server in CPU: the small workloads' requests (2 KiB ranges,
// uniform over the bench's 16 hot files in the RAM tier and 40 warm files on the disk tier), wrk
// with one thread (or autocannon, for the 1,000-connection case), rounds alternating between
// nginx (sendfile off, as the serve bench chose) and each appliance variant. The figure is
// CPU-µs per request — (utime + stime) of the server's process tree over the round ÷ requests —
// which holds up on a machine loaded by others where req/s does not; req/s, p50 and p99 are
// printed too.
//
// A variant is the appliance code of a tree (default: this one), so two versions of the serving
// code are compared in one run, every daemon started before the first round:
//
//   node bench/serve/small-cost.ts [seconds=8] [rounds=3] [connections=64] ['name:/path/to/tree' …]
//   SMALL_COST_GEN=autocannon node bench/serve/small-cost.ts 8 3 1000

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { runCannon } from './cannon.ts';
import { treeCpuSeconds } from './cpu.ts';
import { writeFileSet } from './dataset.ts';
import { startEdgebox, type Edgebox } from './edgebox.ts';
import type { LoadResult } from './measurement.ts';
import { startNginx } from './nginx.ts';
import { runWrk, writePathList } from './wrk.ts';
import { FILE_BYTES, HOT_FILES, RAM_TIER_BYTES, WARM_FILES } from './workloads.ts';

const seconds = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const connections = Number(process.argv[4] ?? 64);
const generator = process.env.SMALL_COST_GEN === 'autocannon' ? 'autocannon' : 'wrk';
const variants = (process.argv.length > 5 ? process.argv.slice(5) : ['this:']).map((spec) => {
  const [name, tree = ''] = spec.split(/:(.*)/s);
  return { name, main: tree === '' ? undefined : join(resolve(tree), 'appliance/main.ts') };
});
const RANGE_BYTES = 2048;
const log = (m: string) => console.log(`[small-cost] ${m}`);

interface Row {
  who: string;
  usPerRequest: number;
  rps: number;
  p50: number;
  p99: number;
  load: number;
  errors: number;
}

const work = mkdtempSync(join(tmpdir(), 'edgebox-small-cost-'));
chmodSync(work, 0o755);
const rows: Row[] = [];
const running: Array<{ stop(): Promise<void> }> = [];
try {
  const docroot = join(work, 'docroot');
  const hot = writeFileSet(docroot, { titleId: 'bench-hot', count: HOT_FILES, bytes: FILE_BYTES });
  const warm = writeFileSet(docroot, { titleId: 'bench-warm', count: WARM_FILES, bytes: FILE_BYTES });
  const kid = 'bench';
  const secret = randomBytes(24).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const tokens = new Map(['bench-hot', 'bench-warm'].map((title) => [title, signToken({ kid, secret, exp, title })]));
  const files = [...hot, ...warm];
  const ranges = files.map((f) => ({ path: fileUrl('', f.fileId, tokens.get(f.titleId)), bytes: f.bytes }));
  const pathList = writePathList(join(work, 'paths.txt'), ranges);

  const ng = await startNginx({ docroot, prefix: join(work, 'nginx'), sendfile: false });
  running.push(ng);
  const targets: Array<{ who: string; origin: string; pid: number }> = [{ who: 'nginx', origin: ng.origin, pid: ng.child.pid }];
  for (const v of variants) {
    const eb: Edgebox = await startEdgebox({
      dir: join(work, `appliance-${v.name}`),
      files,
      hotFileIds: hot.map((f) => f.fileId),
      workers: availableParallelism(),
      ramTierBytes: RAM_TIER_BYTES,
      tokenKeys: { [kid]: secret },
      log,
      main: v.main,
    });
    running.push(eb);
    targets.push({ who: v.name, origin: eb.origin, pid: eb.pid });
  }

  const load = (origin: string, s: number): Promise<LoadResult> =>
    generator === 'wrk'
      ? runWrk({ origin, pathList, mode: 'uniform', minBytes: RANGE_BYTES, maxBytes: RANGE_BYTES, seconds: s, threads: 1, connections })
      : runCannon({ origin, files: ranges, rangeBytes: RANGE_BYTES, seconds: s, connections });
  for (const t of targets) await load(t.origin, 2); // warm-up
  for (let i = 0; i < rounds; i++) {
    // rotate the order so no server always runs first
    const order = targets.map((_, k) => targets[(k + i) % targets.length]);
    for (const t of order) {
      const c0 = treeCpuSeconds(t.pid);
      const r = await load(t.origin, seconds);
      const cpu = treeCpuSeconds(t.pid) - c0;
      const row: Row = {
        who: t.who,
        usPerRequest: Math.round((cpu / r.requests) * 1e7) / 10,
        rps: Math.round(r.requests / r.seconds),
        p50: r.p50_ms,
        p99: r.p99_ms,
        load: Math.round(loadavg()[0] * 10) / 10,
        errors: r.errors,
      };
      rows.push(row);
      log(`round ${i + 1} ${row.who}: ${row.usPerRequest} CPU-µs/request, ${row.rps} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, load ${row.load}${row.errors ? `, ERRORS ${row.errors}` : ''}`);
    }
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\n${generator} ${generator === 'wrk' ? '-t1 ' : ''}-c${connections}, ${seconds} s rounds, 2 KiB ranges`);
  console.log('who\tCPU-µs/request (median)\tall rounds\tp99 ms (median)');
  for (const t of targets) {
    const rs = rows.filter((r) => r.who === t.who);
    console.log(`${t.who}\t${median(rs.map((r) => r.usPerRequest))}\t${rs.map((r) => r.usPerRequest).join(' ')}\t${median(rs.map((r) => r.p99))}`);
  }
} finally {
  await Promise.allSettled(running.map((r) => r.stop()));
  rmSync(work, { recursive: true, force: true });
}
// as bench:serve (main.ts): something the run opened can keep the loop alive after cleanup
process.exit(0);
