// Profile the appliance's serving path under one bench workload: the daemon runs under
// `node --cpu-prof` (one .cpuprofile per thread: main and every serving worker), one generator
// drives it, the daemon drains and exits, and the heaviest functions of each thread are printed.
//
//   [PROFILE_RAM=0] node bench/serve/profile.ts [workload=small-wrk] [seconds=10] [out-dir]

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { writeFileSet } from './dataset.ts';
import { startEdgebox } from './edgebox.ts';
import { combine } from './measurement.ts';
import { measured } from './rounds.ts';
import { summarise } from './profile-summary.ts';
import { FILE_BYTES, RAM_TIER_BYTES, WORKLOADS } from './workloads.ts';

const name = process.argv[2] ?? 'small-wrk';
const seconds = Number(process.argv[3] ?? 10);
const w = WORKLOADS.find((x) => x.name === name);
if (!w) throw new Error(`no workload ${name}; one of ${WORKLOADS.map((x) => x.name).join(', ')}`);
const work = mkdtempSync(join(tmpdir(), 'edgebox-profile-'));
chmodSync(work, 0o755);
const outDir = resolve(process.argv[4] ?? join(work, 'profiles'));
mkdirSync(outDir, { recursive: true });
const log = (m: string) => console.log(`[profile] ${m}`);
try {
  const files = writeFileSet(join(work, 'docroot'), { titleId: 'bench-hot', count: 8, bytes: FILE_BYTES });
  const kid = 'bench';
  const secret = randomBytes(24).toString('base64url');
  const token = signToken({ kid, secret, exp: Math.floor(Date.now() / 1000) + 3600, title: 'bench-hot' });
  const edgebox = await startEdgebox({
    dir: join(work, 'appliance'),
    files,
    hotFileIds: files.map((f) => f.fileId),
    workers: availableParallelism(),
    // PROFILE_RAM=0 keeps every file on the disk tier (the disk serving path)
    ramTierBytes: process.env.PROFILE_RAM === "0" ? 0 : RAM_TIER_BYTES,
    tokenKeys: { [kid]: secret },
    log,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`],
  });
  const ranges = files.map((f) => ({ path: fileUrl('', f.fileId, token), bytes: f.bytes }));
  const r = await measured(w, { name: 'edgebox', origin: edgebox.origin, pid: edgebox.pid }, ranges, seconds, work);
  const m = combine([r]);
  log(`${w.name} under --cpu-prof: ${m.gbps} Gb/s, ${m.rps} req/s, p99 ${m.p99_ms} ms, cpu ${m.cpu}, errors ${m.errors}`);
  await edgebox.stop();
  for (const f of readdirSync(outDir).filter((x) => x.endsWith('.cpuprofile'))) {
    const s = summarise(JSON.parse(readFileSync(join(outDir, f), 'utf8')), 20);
    console.log(`\n${f}: ${s.totalMs} ms sampled, ${s.idleMs} ms idle (shares of busy time)`);
    for (const fn of s.functions) console.log(`  ${String(fn.share).padStart(5)}%  ${String(fn.ms).padStart(6)} ms  ${fn.name}`);
  }
  log(`profiles in ${outDir}`);
} finally {
  // the profiles live in work/ only when no out-dir was given; they were printed above
  rmSync(work, { recursive: true, force: true });
}
