// The viewers workload: how many concurrent players a server holds with 99 % of segments arriving
// within 1 second of when the player wanted them. A catalogue of titles shaped like the packager's
// output (viewers-plan.ts) goes into the nginx docroot and into an appliance of its own whose RAM
// tier holds the most popular titles only, so the rest is served from its disk tier. Each step
// runs N players (viewers-client.ts, in a child process) for a fixed time; the count is searched
// per server and protocol (viewer-search.ts), the two servers' steps alternating.

import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileUrl, signToken } from '../../protocol/index.ts';
import { envNum } from '../env.ts';
import { cpuMeter } from './cpu.ts';
import { writeFileSet, type BenchFile } from './dataset.ts';
import { startEdgebox } from './edgebox.ts';
import { round3 } from './measurement.ts';
import { checkSameBytes } from './sanity.ts';
import type { BenchCert } from './tls-cert.ts';
import type { Target } from './rounds.ts';
import { nextViewers, outcome, type SearchSettings, type SearchStep } from './viewer-search.ts';
import { mergeShards, type ViewersConfig, type ViewersResult } from './viewers-client.ts';
import { LADDER_BPS, renditionLayout, SEGMENT_SECONDS, SEGMENTS_PER_TITLE, type RenditionFile } from './viewers-plan.ts';

export const VIEWERS_WORKLOAD = 'viewers';
export const VIEWER_TITLES = 8;
export const VIEWER_ZIPF_S = 1;
export const PERIOD_MS = SEGMENT_SECONDS * 1000;
export const DEADLINE_MS = 1000;
export const ON_TIME_SHARE = 0.99;
/** two periods: every player connects in the first, the second settles; neither is judged */
export const WARMUP_MS = 2 * PERIOD_MS;
export const REQUEST_TIMEOUT_MS = 5000;
export const VIEWERS_TARGET = 1.0;
/** a failing step this close above a passing one is run once more (viewer-search.ts): one noisy step does not end the search */
export const VIEWERS_RETRY_WITHIN = 0.15;

const CHILD = fileURLToPath(new URL('./viewers-child.ts', import.meta.url));

export const VIEWERS_DESCRIBE =
  `players on keep-alive connections, each asking for the next ${SEGMENT_SECONDS} s segment of one rendition every ${SEGMENT_SECONDS} s ` +
  `(init and sidx ranges when it starts a title); ${VIEWER_TITLES} titles × ${LADDER_BPS.length} renditions of ${SEGMENTS_PER_TITLE} segments, ` +
  'sizes from the package bench\'s ladder, Zipf (s = 1) over titles, rendition uniform; the most viewers with ' +
  `${ON_TIME_SHARE * 100} % of segments within ${DEADLINE_MS / 1000} s of their tick`;

export interface ViewersSettings {
  /** player processes (viewers split between them), so the client is not held to one core */
  clients: number;
  stepSeconds: number;
  maxSteps: number;
  start: number;
  max: number;
}

export function viewersSettings(): ViewersSettings {
  const stepSeconds = envNum('VIEWERS_STEP_SECONDS', 20);
  if (stepSeconds * 1000 <= WARMUP_MS) throw new Error(`VIEWERS_STEP_SECONDS must exceed the ${WARMUP_MS / 1000} s warm-up`);
  return {
    clients: Math.max(1, Math.round(envNum('VIEWERS_CLIENTS', 2))),
    stepSeconds,
    maxSteps: Math.max(1, Math.round(envNum('VIEWERS_MAX_STEPS', 8))),
    start: Math.max(10, Math.round(envNum('VIEWERS_START', 1000))),
    // nginx passed the old cap of 8,000 with every segment on time (p99 0.17 s), so its figure was
    // a floor and the ratio with it too: the cap is now where the servers' own limits are (nginx
    // 16,384 connections per worker, the appliance 20,000 per box, 20,000 descriptors a process)
    max: Math.max(10, Math.round(envNum('VIEWERS_MAX', 16000))),
  };
}

export type Protocol = 'http' | 'https';

export interface ViewerStepRecord {
  protocol: Protocol;
  server: 'edgebox' | 'nginx';
  viewers: number;
  pass: boolean;
  on_time_share: number;
  /** the same over the titles in the appliance's RAM tier at start, and over the others (nginx: the same titles) */
  on_time_share_ram_titles: number | null;
  on_time_share_disk_titles: number | null;
  segments: { requested: number; on_time: number; late: number; failed: number };
  small: { requested: number; on_time: number; late: number; failed: number };
  segment_p50_ms: number;
  segment_p99_ms: number;
  gbps: number;
  /** cores: the server's process tree and the client process, over the measured window */
  server_cpu: number;
  client_cpu: number;
  loop_delay_p99_ms: number;
  issue_lag_p99_ms: number;
  failures: Record<string, number>;
}

export interface ViewersSearchResult {
  protocol: Protocol;
  server: 'edgebox' | 'nginx';
  max_viewers: number;
  first_fail: number | null;
  capped: boolean;
  /** at the lowest failing step the client processes used ≥ 0.9 of a core each: the client, not the server, may be the limit */
  client_saturated: boolean | null;
  /** at that step client and server together used ≥ 90 % of the machine's cores: the cores, shared, were the limit */
  machine_saturated: boolean | null;
}

export interface ViewersWorkloadResult {
  name: typeof VIEWERS_WORKLOAD;
  describe: string;
  settings: ViewersSettings & {
    period_s: number;
    deadline_s: number;
    on_time_share: number;
    warmup_s: number;
    request_timeout_s: number;
    /** the most the search can take: 4 searches × maxSteps × (step + timeout + about 2 s) */
    bound_s: number;
  };
  catalogue: {
    titles: number;
    segments_per_title: number;
    ladder_bps: number[];
    rendition_bytes: number[];
    data_set_bytes: number;
    ram_tier_bytes: number;
    /** titles (0 = most popular) whose renditions were all in the appliance's RAM tier, at start and end */
    ram_titles_start: number[];
    ram_titles_end: number[];
  };
  maxViewers: Record<Protocol, { edgebox: number; nginx: number }>;
  ratio: Record<Protocol, number>;
  target: string;
  meets: Record<Protocol, boolean>;
  searches: ViewersSearchResult[];
  steps: ViewerStepRecord[];
}

export interface ViewersRun {
  work: string;
  docroot: string;
  cert: BenchCert;
  /** nginx as chosen by the bench, with its TLS listener */
  nginx: { origin: string; tlsOrigin: string; pid: number };
  kid: string;
  secret: string;
  exp: number;
  workers: number;
  ramTierBytes: number;
  settings: ViewersSettings;
  log: (msg: string) => void;
}

/** The catalogue: files per title and rendition, written into the docroot. */
export function writeCatalogue(docroot: string, titles: number): { files: BenchFile[][]; layouts: Array<Omit<RenditionFile, 'path'>> } {
  const layouts = LADDER_BPS.map((bps) => renditionLayout(bps));
  const files = Array.from({ length: titles }, (_, t) =>
    layouts.map((l, r) => writeFileSet(docroot, { titleId: titleIdOf(t), count: 1, bytes: l.bytes, firstIndex: r })[0]));
  return { files, layouts };
}

export function titleIdOf(t: number): string {
  return `bench-view${String(t).padStart(2, '0')}`;
}

/**
 * Run one step in `clients` child processes, each with its share of the viewers (the same seeded
 * players whatever the split); the server's CPU is metered from the first shard's measured window
 * opening to the last one's closing.
 */
export async function runViewerStep(
  config: Omit<ViewersConfig, 'onPhase' | 'shard'>,
  serverPid?: number,
  clients = 1,
): Promise<ViewersResult & { server_cpu: number }> {
  let meter: (() => number) | undefined;
  let open = 0;
  let serverCpu = 0;
  const phase = (p: 'measure-start' | 'measure-end') => {
    if (p === 'measure-start' && open++ === 0 && serverPid) meter = cpuMeter(serverPid);
    if (p === 'measure-end' && --open === 0 && meter) serverCpu = meter();
  };
  const parts = await Promise.all(Array.from({ length: clients }, (_, index) => runShard({ ...config, shard: { index, count: clients } }, phase)));
  return { ...mergeShards(parts), server_cpu: round3(serverCpu) };
}

function runShard(config: Omit<ViewersConfig, 'onPhase'>, phase: (p: 'measure-start' | 'measure-end') => void): Promise<ViewersResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ViewersResult | undefined;
    let error: string | undefined;
    child.on('message', (m: { type: string; result?: ViewersResult; message?: string }) => {
      if (m.type === 'measure-start' || m.type === 'measure-end') phase(m.type);
      else if (m.type === 'result') result = m.result;
      else if (m.type === 'error') error = m.message;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`viewer client exited ${signal ?? code}${error ? `: ${error}` : ''}`));
    });
    child.send(config);
  });
}

export async function runViewersWorkload(o: ViewersRun): Promise<ViewersWorkloadResult> {
  const s = o.settings;
  o.log(`viewers: writing ${VIEWER_TITLES} titles × ${LADDER_BPS.length} renditions`);
  const { files, layouts } = writeCatalogue(o.docroot, VIEWER_TITLES);
  const titleBytes = layouts.reduce((a, l) => a + l.bytes, 0);
  const tokens = new Map(files.map((_, t) => [titleIdOf(t), signToken({ kid: o.kid, secret: o.secret, exp: o.exp, title: titleIdOf(t) })]));
  const titles: RenditionFile[][] = files.map((fs, t) => fs.map((f, r) => ({ ...layouts[r], path: fileUrl('', f.fileId, tokens.get(titleIdOf(t))) })));
  // the most popular titles that fit the RAM tier whole go there; the rest is on disk only
  const ramTitleCount = Math.min(VIEWER_TITLES, Math.floor(o.ramTierBytes / titleBytes));
  const all = files.flat();

  const edgebox = await startEdgebox({
    dir: join(o.work, 'appliance-viewers'),
    files: all,
    hotFileIds: files.slice(0, ramTitleCount).flat().map((f) => f.fileId),
    workers: o.workers,
    ramTierBytes: o.ramTierBytes,
    tokenKeys: { [o.kid]: o.secret },
    log: o.log,
    tls: o.cert,
    // no swaps once the RAM tier is full: which titles are in RAM is the workload's choice, not
    // the demand left by earlier steps (a step with few viewers would otherwise reshuffle it)
    storeTuning: { promoteMargin: 1 },
  });
  try {
    const targets: Record<Protocol, Target[]> = {
      http: [{ name: 'edgebox', origin: edgebox.origin, pid: edgebox.pid }, { name: 'nginx', origin: o.nginx.origin, pid: o.nginx.pid }],
      https: [{ name: 'edgebox', origin: edgebox.tlsOrigin!, pid: edgebox.pid }, { name: 'nginx', origin: o.nginx.tlsOrigin, pid: o.nginx.pid }],
    };
    const probe = [files[0][0], files[VIEWER_TITLES - 1][0]];
    await checkSameBytes(targets.http, probe, tokens, o.log);
    await checkSameBytes(targets.https, probe, tokens, o.log, o.cert.caPem);
    const ramStart = await ramTitles(edgebox.adminOrigin, edgebox.adminToken, files);
    o.log(`viewers: titles wholly in the appliance's RAM tier: ${ramStart.join(', ') || 'none'} (of 0–${VIEWER_TITLES - 1}, 0 most popular)`);

    const search: SearchSettings = { start: s.start, max: s.max, maxSteps: s.maxSteps, resolution: 0.05, granularity: 10, retryWithin: VIEWERS_RETRY_WITHIN };
    const steps: ViewerStepRecord[] = [];
    const searches: ViewersSearchResult[] = [];
    for (const protocol of ['http', 'https'] as const) {
      const history: Record<string, SearchStep[]> = { edgebox: [], nginx: [] };
      for (let round = 0; ; round++) {
        // alternate which server goes first, as the other workloads do
        const order = round % 2 === 0 ? targets[protocol] : [...targets[protocol]].reverse();
        let ran = false;
        for (const t of order) {
          const n = nextViewers(history[t.name], search);
          if (n === undefined) continue;
          ran = true;
          const r = await runViewerStep({
            origin: t.origin,
            caPem: protocol === 'https' ? o.cert.caPem : undefined,
            titles,
            viewers: n,
            seed: 20261202,
            zipfS: VIEWER_ZIPF_S,
            periodMs: PERIOD_MS,
            deadlineMs: DEADLINE_MS,
            warmupMs: WARMUP_MS,
            measureMs: s.stepSeconds * 1000 - WARMUP_MS,
            timeoutMs: REQUEST_TIMEOUT_MS,
          }, t.pid, s.clients);
          const rec = stepRecord(protocol, t.name, r, ramStart);
          history[t.name].push({ viewers: n, pass: rec.pass });
          steps.push(rec);
          o.log(`viewers ${protocol} ${t.name} ${n}: ${rec.pass ? 'pass' : 'FAIL'}, ${(rec.on_time_share * 100).toFixed(1)} % on time ` +
            `(late ${rec.segments.late}, failed ${rec.segments.failed} of ${rec.segments.requested}), p99 ${rec.segment_p99_ms} ms, ` +
            `${rec.gbps} Gb/s, cpu server ${rec.server_cpu} client ${rec.client_cpu}, loop p99 ${rec.loop_delay_p99_ms} ms` +
            (Object.keys(rec.failures).length ? `, failures ${JSON.stringify(rec.failures)}` : ''));
        }
        if (!ran) break;
      }
      for (const t of targets[protocol]) {
        const out = outcome(history[t.name], search);
        const atFail = steps.find((x) => x.protocol === protocol && x.server === t.name && x.viewers === out.firstFail);
        searches.push({
          protocol,
          server: t.name,
          max_viewers: out.maxViewers,
          first_fail: out.firstFail,
          capped: out.capped,
          client_saturated: atFail ? atFail.client_cpu >= 0.9 * s.clients : null,
          machine_saturated: atFail ? atFail.client_cpu + atFail.server_cpu >= 0.9 * availableParallelism() : null,
        });
      }
    }
    const ramEnd = await ramTitles(edgebox.adminOrigin, edgebox.adminToken, files);
    const max = (p: Protocol, n: 'edgebox' | 'nginx') => searches.find((x) => x.protocol === p && x.server === n)!.max_viewers;
    const maxViewers = {
      http: { edgebox: max('http', 'edgebox'), nginx: max('http', 'nginx') },
      https: { edgebox: max('https', 'edgebox'), nginx: max('https', 'nginx') },
    };
    const ratio = (p: Protocol) => (maxViewers[p].nginx > 0 ? round3(maxViewers[p].edgebox / maxViewers[p].nginx) : 0);
    return {
      name: VIEWERS_WORKLOAD,
      describe: VIEWERS_DESCRIBE,
      settings: {
        ...s,
        period_s: PERIOD_MS / 1000,
        deadline_s: DEADLINE_MS / 1000,
        on_time_share: ON_TIME_SHARE,
        warmup_s: WARMUP_MS / 1000,
        request_timeout_s: REQUEST_TIMEOUT_MS / 1000,
        bound_s: viewersBoundSeconds(s),
      },
      catalogue: {
        titles: VIEWER_TITLES,
        segments_per_title: SEGMENTS_PER_TITLE,
        ladder_bps: [...LADDER_BPS],
        rendition_bytes: layouts.map((l) => l.bytes),
        data_set_bytes: titleBytes * VIEWER_TITLES,
        ram_tier_bytes: o.ramTierBytes,
        ram_titles_start: ramStart,
        ram_titles_end: ramEnd,
      },
      maxViewers,
      ratio: { http: ratio('http'), https: ratio('https') },
      target: `>= ${VIEWERS_TARGET}`,
      meets: { http: ratio('http') >= VIEWERS_TARGET, https: ratio('https') >= VIEWERS_TARGET },
      searches,
      steps,
    };
  } finally {
    await edgebox.stop();
  }
}

/** The longest the searches can take: every step runs its length plus the drain (at most the timeout) and a process start. */
export function viewersBoundSeconds(s: ViewersSettings): number {
  return 4 * s.maxSteps * (s.stepSeconds + REQUEST_TIMEOUT_MS / 1000 + 1 + 2);
}

function stepRecord(protocol: Protocol, server: 'edgebox' | 'nginx', r: ViewersResult & { server_cpu: number }, ramTitles: number[]): ViewerStepRecord {
  const seg = r.measured.segments;
  const share = (inRam: boolean) => {
    const ts = r.by_title.filter((_, t) => ramTitles.includes(t) === inRam);
    const requested = ts.reduce((a, x) => a + x.requested, 0);
    return requested > 0 ? round3(ts.reduce((a, x) => a + x.onTime, 0) / requested) : null;
  };
  const sm = r.measured.small;
  const bytes = seg.bytes + sm.bytes;
  return {
    protocol,
    server,
    viewers: r.viewers,
    pass: seg.requested > 0 && seg.onTime / seg.requested >= ON_TIME_SHARE,
    on_time_share: r.on_time_share,
    on_time_share_ram_titles: share(true),
    on_time_share_disk_titles: share(false),
    segments: { requested: seg.requested, on_time: seg.onTime, late: seg.late, failed: seg.failed },
    small: { requested: sm.requested, on_time: sm.onTime, late: sm.late, failed: sm.failed },
    segment_p50_ms: r.segment_p50_ms,
    segment_p99_ms: r.segment_p99_ms,
    gbps: r.measure_seconds > 0 ? round3((bytes * 8) / r.measure_seconds / 1e9) : 0,
    server_cpu: r.server_cpu,
    client_cpu: r.client_cpu,
    loop_delay_p99_ms: r.loop_delay_p99_ms,
    issue_lag_p99_ms: r.issue_lag_p99_ms,
    failures: r.failures,
  };
}

/** Titles whose every rendition is in the appliance's RAM tier now (admin API). */
async function ramTitles(admin: string, token: string, files: BenchFile[][]): Promise<number[]> {
  const res = await fetch(`${admin}/v1/admin/files`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`admin /v1/admin/files answered ${res.status}`);
  const body = (await res.json()) as { files: Array<{ fileId: string; inRam: boolean }> };
  const inRam = new Set(body.files.filter((f) => f.inRam).map((f) => f.fileId));
  return files.flatMap((fs, t) => (fs.every((f) => inRam.has(f.fileId)) ? [t] : []));
}

/** What a reader needs to judge the viewers figures, for serve.json's notes. */
export function viewersNotes(v: ViewersWorkloadResult): string[] {
  const mib = (b: number) => Math.round(b / 2 ** 20);
  const limited = v.searches.filter((x) => x.client_saturated).map((x) => `${x.protocol} ${x.server}`);
  const busy = v.searches.filter((x) => x.machine_saturated).map((x) => `${x.protocol} ${x.server}`);
  return [
    `viewers: ${v.catalogue.titles} titles × ${v.catalogue.ladder_bps.length} renditions (${mib(v.catalogue.data_set_bytes)} MiB) on an appliance of their own ` +
      `with a ${mib(v.catalogue.ram_tier_bytes)} MiB RAM tier: titles ${v.catalogue.ram_titles_start.join(', ') || 'none'} wholly in RAM at start ` +
      `(${v.catalogue.ram_titles_end.join(', ') || 'none'} at end), the rest from its disk tier; nginx serves the same files from the page cache.`,
    `viewers: each step is ${v.settings.stepSeconds} s (${v.settings.warmup_s} s warm-up, not judged) of N players; a step passes when ≥ ` +
      `${v.settings.on_time_share * 100} % of the segments wanted in the judged window arrived whole within ${v.settings.deadline_s} s of their tick ` +
      `(failures count against it). Search: from ${v.settings.start}, doubling, then bisecting to 5 %, at most ${v.settings.maxSteps} steps per server ` +
      `and protocol (bound ${v.settings.bound_s} s), the two servers' steps alternating; players and their schedule are seeded, the same for both. ` +
      `A failing count within ${VIEWERS_RETRY_WITHIN * 100} % above a passing one is run once more (within the step budget) and the rerun's result stands.`,
    `viewers: the players run in ${v.settings.clients} Node process(es), viewers split between them, on the same cores as the server; ` +
      'client_cpu is their cores per step. ' +
      (limited.length > 0
        ? `At the first failing step the client processes were near a core each for ${limited.join(', ')}: there the figure is the client's limit as much as the server's. `
        : 'At every first failing step the client processes had CPU to spare. ') +
      (busy.length > 0
        ? `Client and server together used ≥ 90 % of the cores at the first failing step for ${busy.join(', ')}: the shared cores were the limit there.`
        : 'Client and server together never filled 90 % of the cores at a first failing step.'),
  ];
}
