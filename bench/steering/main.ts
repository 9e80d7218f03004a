// `npm run bench:steering`: steering with 1,000,000 prefixes (4,000,000 routes) and 10,000
// appliances — the route table's build time and memory, decisions per second and latency in
// process, the same beside a stream of single-prefix deltas, then over HTTP: steering queries
// (autocannon, as before, and wrk) and whole playback starts (wrk). Into bench/results/
// steering.json and steering.md. Options: --prefixes N --appliances N --seconds S (in-process
// and each HTTP run, split into --rounds N rounds) --update-seconds S --update-rounds N --update-rate N --accounts N
// --connections N. Bounded: build (~15 s) + S + 2 × rounds × update-seconds + 3 × S, about
// 1.5 minutes with the defaults.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { seededRandom as rng } from '../../protocol/index.ts';
import { renderMarkdown } from './report.ts';
import { runWrkRounds } from './wrk.ts';

const here = dirname(fileURLToPath(import.meta.url));
const passArgs = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = passArgs.indexOf(`--${name}`);
  return i >= 0 ? Number(passArgs[i + 1]) : def;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 16);
// the in-process and wrk figures are the median of this many rounds (seconds split between them)
const rounds = arg('rounds', 5);

const loadBefore = loadavg();
const child = spawn(process.execPath, ['--max-old-space-size=8192', '--expose-gc', join(here, 'server.ts'), ...passArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const messages: Record<string, any> = {};
const listening = new Promise<any>((resolve, reject) => {
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const m = JSON.parse(line);
    messages[m.type] = m;
    if (m.type !== 'listening') console.error(`[steering bench] ${m.type}: ${JSON.stringify(m)}`);
    if (m.type === 'listening') resolve(m);
  });
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

try {
  const srv = await listening;
  const r = rng(11);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const loadHttp = loadavg()[0];
  const http = await autocannon({
    url: srv.url, connections, duration: seconds, timeout: 10,
    headers: { authorization: `Bearer ${srv.token}` },
    requests: [{
      method: 'GET',
      setupRequest(req) {
        req.path = `/v1/steering?ip=${encodeURIComponent(pick(srv.clients))}&titleId=${pick(srv.titleIds)}&region=${pick(srv.regions)}`;
        return req;
      },
    }],
  });
  const steeringWrk = await runWrkRounds(srv.url, 'steering', srv.wrkData, srv.token, seconds, connections, rounds);
  const playback = await runWrkRounds(srv.url, 'playback', srv.wrkData, srv.token, seconds, connections, rounds);
  const result = {
    bench: 'steering',
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), kernel: release(),
      loadavg_1m_before: loadBefore[0], loadavg_1m_http: loadHttp, loadavg_1m_after: loadavg()[0],
    },
    command: `npm run bench:steering${passArgs.length ? ' -- ' + passArgs.join(' ') : ''}`,
    world: messages.built,
    inprocess: messages.inprocess,
    incremental: messages.incremental,
    http: {
      endpoint: 'GET /v1/steering?ip&titleId&region (operator token)', client: 'autocannon', connections, seconds: http.duration,
      requests: http.requests.total, requestsPerSec: http.requests.total / http.duration,
      p50_ms: http.latency.p50, p99_ms: http.latency.p99, errors: http.errors + http.timeouts + http.non2xx,
    },
    httpWrk: steeringWrk,
    playback: { ...playback, accounts: srv.accounts },
    notes: [
      'in process: parseAddress + catalogue lookup + steer(), timed one by one after a 200k-decision warm-up, in --rounds rounds of --seconds ÷ rounds; decisionsPerSec, p50/p99/p99.9 are the median round (spread: min–max over the rounds); per round the GC pauses in its window (perf_hooks), the thread\'s time off the CPU (wall − its CPU time), and how many decisions over 30 µs overlapped a GC pause; allocBytesPerDecision is the JS heap growth per decision in short batches with no GC; cpuUsPerDecision the thread\'s CPU time per decision',
      'wrk runs (steering and playback): --rounds runs of --seconds ÷ rounds each; requestsPerSec and latencies are the median run, spread min–max, requests and errors summed',
      'world build: each site\'s reports are made up and applied at once; tableBuildMs is the time in Fleet.add + applyReport (the route table, holders, slots), generateMs the rest (bench work), flushMs the first batch written to the store; buildMs is all three, as the earlier bench timed it',
      'memory: process RSS after the build and a GC; rssDeltaMiB is over the RSS before the world was made (so it includes the route objects, inventories and holder sets control keeps), routeTableMiB the typed arrays of tries and route records; the store is a file in the temp dir (":memory:" would count persisted route sets as RSS)',
      'incremental: one more appliance reports 100k of the world\'s prefixes; steering runs steady, then beside single-prefix deltas at the target rate (each validated by the report schema and applied by Fleet.applyReport), alternating for --update-rounds rounds of --update-seconds each; rateRatio = decisions/s with deltas ÷ steady, over all rounds; each delta is appended to the store\'s route log with its report; routesPersistMs is one full-set entry (a full report, or a compaction once deltas outweigh the set)',
      'through HTTP: the load generator and control share the 2 cores; wrk runs one thread (one core), control is one Node thread; requestsPerSec counts 2xx answers only',
      'playback: POST /v1/playback = account token lookup, profile, title, steering, URL token signing, per-session DASH + HLS manifests, the stream-limit transaction and session insert in SQLite (file, WAL); sessions lapse after 2 s, so premium accounts (4 streams) seldom hit the limit (those 429s count in non2xx)',
      'the machine is shared with other builds: loadavg before / at the HTTP runs / after is recorded; figures on an idle machine will be higher',
      'world: embedded sites of 4 appliances each reporting the site prefixes (70% IPv4 /16-/24, 30% IPv6 /32-/48), 1% IX appliances, ~5% overloaded, ~1.5% stale, 1% draining, 0.5% failing; each appliance holds 60% of 200 titles',
    ],
  };
  const out = join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'steering.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'steering.md'), renderMarkdown(result));
  console.log(renderMarkdown(result));
} finally {
  child.kill('SIGTERM');
}
