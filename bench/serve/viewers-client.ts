// The players of the viewers workload (all, or one shard of them), in one event loop: each viewer holds one keep-alive
// connection and, every 2 seconds on its own phase, asks for the next segment of its rendition
// (after the init and index ranges when it starts a title). Latency runs from when the player
// wanted the segment (its tick), not from when the request left, so a client or server that falls
// behind shows as late segments rather than as a slower request rate.
//
// The client shares the machine's cores with the servers, so it is kept cheap: raw sockets
// (plain ones read into one shared buffer through `onread`), a response parser that only reads
// the head and counts body bytes, one scheduler timer for all viewers and one sweep for timeouts.
// Every request ends as exactly one of on time, late or failed (a wrong status, length or
// Content-Range, a socket error, a timeout, or still unfinished when the step ends).

import { connect as netConnect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { round3 } from './measurement.ts';
import { segmentRange, viewerRandom, zipfCdf, zipfPick, type RenditionFile } from './viewers-plan.ts';

export interface ViewersConfig {
  /** http://host:port or https://host:port */
  origin: string;
  /** CA for https origins */
  caPem?: string;
  /** titles[t][r]: rendition r of title t, titles in popularity order */
  titles: RenditionFile[][];
  viewers: number;
  /** run only viewers i with i % count === index (the rest run in sibling processes) */
  shard?: { index: number; count: number };
  seed: number;
  zipfS: number;
  periodMs: number;
  /** a segment later than this after its tick is late */
  deadlineMs: number;
  /** ticks before this are the warm-up (connections opening) and are tallied apart */
  warmupMs: number;
  measureMs: number;
  /** a request in flight for longer fails (and its connection is closed) */
  timeoutMs: number;
  /** called when the measured window starts and ends (the parent meters server CPU on them) */
  onPhase?: (phase: 'measure-start' | 'measure-end') => void;
}

export interface Tally {
  requested: number;
  onTime: number;
  late: number;
  failed: number;
  /** body bytes of answered requests (on time or late), each checked against its range */
  bytes: number;
}

export interface ViewersResult {
  viewers: number;
  measured: { segments: Tally; small: Tally };
  warmup: { segments: Tally; small: Tally };
  /** measured segments, answered ones: ms from tick to last byte */
  segment_p50_ms: number;
  segment_p99_ms: number;
  /** the answered measured segments' latencies, ascending (to merge shards' percentiles) */
  segment_latencies_ms: number[];
  on_time_share: number;
  /** measured segments per title (0 = most popular) */
  by_title: Tally[];
  measure_seconds: number;
  /** cores this process used during the measured window */
  client_cpu: number;
  /** event-loop delay p99 over the measured window, and how late requests left after their tick */
  loop_delay_p99_ms: number;
  issue_lag_p99_ms: number;
  connections_opened: number;
  /** times a server sent bytes nobody asked for (the connection was dropped) */
  unexpected_bytes: number;
  /** failed requests by reason */
  failures: Record<string, number>;
}

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const MAX_HEAD = 16 * 1024;

type Kind = 'segment' | 'small';

interface Req {
  kind: Kind;
  title: number;
  file: RenditionFile;
  start: number;
  end: number;
  /** when the player wanted it (ms since the step's t0) */
  tick: number;
  measured: boolean;
  /** the first request of a tick: its issue lag shows whether the client kept its schedule */
  first: boolean;
  issued: number;
}

const emptyTally = (): Tally => ({ requested: 0, onTime: 0, late: 0, failed: 0, bytes: 0 });

export async function runViewers(c: ViewersConfig): Promise<ViewersResult> {
  const url = new URL(c.origin);
  const tls = url.protocol === 'https:';
  const host = url.hostname;
  const port = Number(url.port || (tls ? 443 : 80));
  const hostHeader = url.host;
  const cdf = zipfCdf(c.titles.length, c.zipfS);
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const stopAt = c.warmupMs + c.measureMs;

  const measured = { segment: emptyTally(), small: emptyTally() };
  const warm = { segment: emptyTally(), small: emptyTally() };
  const byTitle = c.titles.map(emptyTally);
  const latencies: number[] = [];
  const issueLags: number[] = [];
  const failures: Record<string, number> = {};
  let connectionsOpened = 0;
  let unexpectedBytes = 0;
  let outstanding = 0; // requested, not yet settled
  const busy = new Set<Viewer>();
  const tallyOf = (r: Req) => (r.measured ? measured : warm)[r.kind];

  function settle(r: Req, outcome: 'ok' | string, bodyBytes = 0) {
    outstanding--;
    const perTitle = r.measured && r.kind === 'segment' ? byTitle[r.title] : undefined;
    for (const t of perTitle ? [tallyOf(r), perTitle] : [tallyOf(r)]) {
      if (outcome !== 'ok') {
        t.failed++;
        continue;
      }
      const latency = now() - r.tick;
      t.bytes += bodyBytes;
      if (latency <= c.deadlineMs) t.onTime++;
      else t.late++;
    }
    if (outcome !== 'ok') failures[outcome] = (failures[outcome] ?? 0) + 1;
    else if (perTitle) latencies.push(now() - r.tick);
  }

  class Viewer {
    readonly rng: () => number;
    title = 0;
    rung = 0;
    seg = 0;
    needInit = true;
    readonly queue: Req[] = [];
    socket: Socket | undefined;
    current: Req | undefined;
    // response parser state
    head = '';
    remaining = -1; // -1: reading the head
    received = 0;
    closeAfter = false;

    readonly phase: number;

    constructor(index: number, phase: number) {
      this.phase = phase;
      this.rng = viewerRandom(c.seed, index);
      // a steady audience: each viewer is somewhere in a title when the step starts
      this.pickTitle();
      this.seg = Math.floor(this.rng() * c.titles[this.title][this.rung].segments);
    }

    pickTitle() {
      this.title = zipfPick(cdf, this.rng());
      this.rung = Math.floor(this.rng() * c.titles[this.title].length);
    }

    onTick(tick: number) {
      const isMeasured = tick >= c.warmupMs;
      let file = c.titles[this.title][this.rung];
      if (this.seg >= file.segments) {
        // end of the title: the player starts another one
        this.pickTitle();
        this.seg = 0;
        this.needInit = true;
        file = c.titles[this.title][this.rung];
      }
      // the first request of a tick on an idle viewer: how late it leaves is the client's own lag
      let first = !this.current && this.queue.length === 0;
      const add = (kind: Kind, start: number, end: number) => {
        const r: Req = { kind, title: this.title, file, start, end, tick, measured: isMeasured, first, issued: 0 };
        this.queue.push(r);
        first = false;
        tallyOf(r).requested++;
        if (isMeasured && kind === 'segment') byTitle[this.title].requested++;
        outstanding++;
      };
      if (this.needInit) {
        add('small', 0, file.initBytes - 1);
        add('small', file.initBytes, file.initBytes + file.indexBytes - 1);
        this.needInit = false;
      }
      const [s, e] = segmentRange(file, this.seg++);
      add('segment', s, e);
      this.pump();
    }

    pump() {
      if (this.current || this.queue.length === 0) return;
      const r = this.queue.shift()!;
      if (!this.socket) this.open();
      this.current = r;
      r.issued = now();
      if (r.first && r.measured) issueLags.push(r.issued - r.tick);
      busy.add(this);
      this.head = '';
      this.remaining = -1;
      this.received = 0;
      this.socket!.write(`GET ${r.file.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nRange: bytes=${r.start}-${r.end}\r\n\r\n`, 'latin1');
    }

    open() {
      connectionsOpened++;
      let s: Socket;
      if (tls) {
        s = tlsConnect({ host, port, ca: c.caPem, ALPNProtocols: ['http/1.1'] });
        s.on('data', (b: Buffer) => this.feed(b, 0, b.length));
      } else {
        s = netConnect({
          host,
          port,
          onread: { buffer: READ_BUFFER, callback: (n: number, b: Uint8Array) => { this.feed(b as Buffer, 0, n); return true; } },
        });
      }
      s.setNoDelay(true);
      s.on('error', (err: NodeJS.ErrnoException) => this.drop(`socket ${err.code ?? err.message}`, s));
      s.on('close', () => this.drop('connection closed', s));
      this.socket = s;
    }

    /** The connection is gone: fail what was in flight on it, go on with the queue on a new one. */
    drop(reason: string, s: Socket) {
      if (this.socket !== s) return;
      this.socket = undefined;
      s.destroy();
      const r = this.current;
      if (r) {
        this.current = undefined;
        busy.delete(this);
        settle(r, reason);
      }
      if (!stopping) this.pump();
    }

    /** Bytes after a whole response with nothing asked: the connection cannot be trusted. */
    stray() {
      unexpectedBytes++;
      if (this.socket) this.drop('unexpected bytes', this.socket);
    }

    fail(reason: string) {
      if (this.socket) this.drop(reason, this.socket);
    }

    feed(b: Buffer, off: number, end: number) {
      while (off < end) {
        const r = this.current;
        if (!r) return this.stray();
        if (this.remaining === -1) {
          const take = Math.min(end - off, MAX_HEAD + 4 - this.head.length);
          if (take <= 0) return this.fail('response head too large');
          const from = Math.max(0, this.head.length - 3);
          const before = this.head.length;
          this.head += b.toString('latin1', off, off + take);
          const j = this.head.indexOf('\r\n\r\n', from);
          if (j < 0) {
            off += take;
            continue;
          }
          off += j + 4 - before;
          const why = this.checkHead(this.head.slice(0, j), r);
          if (why) return this.fail(why);
        } else {
          const n = Math.min(end - off, this.remaining);
          this.remaining -= n;
          this.received += n;
          off += n;
        }
        if (this.remaining === 0) {
          this.current = undefined;
          busy.delete(this);
          settle(r, 'ok', this.received);
          if (this.closeAfter && this.socket) {
            const s = this.socket;
            this.socket = undefined;
            s.destroy();
          }
          if (off < end) return this.stray();
          this.pump();
          return;
        }
      }
    }

    /** The response must be the asked range, whole: 206, Content-Length and Content-Range exact. */
    checkHead(head: string, r: Req): string | undefined {
      const lines = head.split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!status) return 'bad status line';
      if (status[1] !== '206') return `status ${status[1]}`;
      let length = -1;
      let range = '';
      this.closeAfter = false;
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'content-length') length = Number(value);
        else if (name === 'content-range') range = value;
        else if (name === 'transfer-encoding') return 'transfer-encoding on a range';
        else if (name === 'connection' && value.toLowerCase() === 'close') this.closeAfter = true;
      }
      const want = r.end - r.start + 1;
      if (length !== want) return 'wrong content-length';
      if (range !== `bytes ${r.start}-${r.end}/${r.file.bytes}`) return 'wrong content-range';
      this.remaining = want;
      return undefined;
    }
  }

  let stopping = false;
  const rngPhase = (i: number) => viewerRandom(c.seed ^ 0x5f3759df, i)() * c.periodMs;
  const shard = c.shard ?? { index: 0, count: 1 };
  const viewers: Viewer[] = [];
  for (let i = shard.index; i < c.viewers; i += shard.count) viewers.push(new Viewer(i, rngPhase(i)));
  const order = [...viewers].sort((a, b) => a.phase - b.phase);

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let cpu0 = process.cpuUsage();
  let cpuSeconds = 0;
  let measureStarted = false;
  let measureT0 = 0;
  let measureSeconds = 0;

  // one timer walks the viewers in phase order, cycle after cycle
  let cycle = 0;
  let next = 0;
  let schedTimer: NodeJS.Timeout | undefined;
  const due = () => cycle * c.periodMs + order[next].phase;
  const schedule = () => {
    const t = now();
    while (order.length > 0 && due() <= t && due() < stopAt) {
      order[next].onTick(due());
      if (++next === order.length) {
        next = 0;
        cycle++;
      }
    }
    if (order.length > 0 && due() < stopAt) schedTimer = setTimeout(schedule, Math.max(1, due() - now()));
  };

  // the judged window opens and closes on timers of its own, whatever the ticks do; each side
  // is sent once and in order, so the parent always sees a start before an end
  function startMeasure() {
    if (measureStarted) return;
    measureStarted = true;
    measureT0 = now();
    cpu0 = process.cpuUsage();
    loopDelay.enable();
    c.onPhase?.('measure-start');
  }
  let measureEnded = false;
  function endMeasure() {
    if (measureEnded) return;
    measureEnded = true;
    startMeasure();
    const u = process.cpuUsage(cpu0);
    cpuSeconds = (u.user + u.system) / 1e6;
    measureSeconds = (now() - measureT0) / 1000;
    loopDelay.disable();
    c.onPhase?.('measure-end');
  }

  const sweep = setInterval(() => {
    const t = now();
    for (const v of busy) if (v.current && t - v.current.issued > c.timeoutMs) v.fail('timeout');
  }, 200);

  const startTimer = setTimeout(startMeasure, c.warmupMs);
  const endTimer = setTimeout(endMeasure, stopAt);
  schedule();
  // the step ends when every request has settled, or a timeout after the last tick at the latest
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      const t = now();
      if ((t >= stopAt && outstanding === 0) || t >= stopAt + c.timeoutMs + 1000) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  endMeasure();
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  clearTimeout(schedTimer);
  clearInterval(sweep);
  stopping = true;
  for (const v of viewers) {
    for (const r of v.queue.splice(0)) settle(r, 'unfinished');
    if (v.current) {
      const r = v.current;
      v.current = undefined;
      settle(r, 'unfinished');
    }
    v.socket?.destroy();
    v.socket = undefined;
  }
  busy.clear();

  latencies.sort((a, b) => a - b);
  issueLags.sort((a, b) => a - b);
  const seg = measured.segment;
  return {
    viewers: c.viewers,
    measured: { segments: seg, small: measured.small },
    warmup: { segments: warm.segment, small: warm.small },
    segment_p50_ms: pct(latencies, 0.5),
    segment_p99_ms: pct(latencies, 0.99),
    segment_latencies_ms: latencies,
    on_time_share: seg.requested > 0 ? round3(seg.onTime / seg.requested) : 0,
    by_title: byTitle,
    measure_seconds: round3(measureSeconds),
    client_cpu: measureSeconds > 0 ? round3(cpuSeconds / measureSeconds) : 0,
    loop_delay_p99_ms: round3(loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0),
    issue_lag_p99_ms: pct(issueLags, 0.99),
    connections_opened: connectionsOpened,
    unexpected_bytes: unexpectedBytes,
    failures,
  };
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : round3(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
}

const addTally = (a: Tally, b: Tally): Tally => ({
  requested: a.requested + b.requested, onTime: a.onTime + b.onTime, late: a.late + b.late, failed: a.failed + b.failed, bytes: a.bytes + b.bytes,
});

/** One result from the shards of a step: counts add up, CPU adds up, delays take the worst shard. */
export function mergeShards(parts: ViewersResult[]): ViewersResult {
  if (parts.length === 1) return parts[0];
  const latencies = parts.flatMap((p) => p.segment_latencies_ms).sort((a, b) => a - b);
  const sum = (f: (p: ViewersResult) => Tally) => parts.map(f).reduce(addTally);
  const segments = sum((p) => p.measured.segments);
  const failures: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + n;
  return {
    viewers: parts[0].viewers,
    measured: { segments, small: sum((p) => p.measured.small) },
    warmup: { segments: sum((p) => p.warmup.segments), small: sum((p) => p.warmup.small) },
    segment_p50_ms: pct(latencies, 0.5),
    segment_p99_ms: pct(latencies, 0.99),
    segment_latencies_ms: latencies,
    on_time_share: segments.requested > 0 ? round3(segments.onTime / segments.requested) : 0,
    by_title: parts[0].by_title.map((_, t) => parts.map((p) => p.by_title[t]).reduce(addTally)),
    measure_seconds: Math.max(...parts.map((p) => p.measure_seconds)),
    client_cpu: round3(parts.reduce((a, p) => a + p.client_cpu, 0)),
    loop_delay_p99_ms: Math.max(...parts.map((p) => p.loop_delay_p99_ms)),
    issue_lag_p99_ms: Math.max(...parts.map((p) => p.issue_lag_p99_ms)),
    connections_opened: parts.reduce((a, p) => a + p.connections_opened, 0),
    unexpected_bytes: parts.reduce((a, p) => a + p.unexpected_bytes, 0),
    failures,
  };
}
