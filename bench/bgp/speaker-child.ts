// The appliance side of the BGP bench, in its own process so its memory is its own: the real
// BgpSpeaker dials BIRD; the time from Established to End-of-RIB (both families) and the CPU
// spent are taken here, and the heap and RSS after a GC before the session and once the table is
// in. On request it starts the real Reporter against the bench's control. JSON over IPC.

import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import pino from 'pino';
import { BgpSettings } from '../../appliance/src/bgp/settings.ts';
import { BgpSpeaker } from '../../appliance/src/bgp/speaker.ts';
import { Reporter } from '../../appliance/src/report/reporter.ts';
import { ReporterSettings } from '../../appliance/src/report/settings.ts';

interface Init { bgp: unknown; controlUrl: string; stateDir: string; enrollmentToken: string; reportIntervalMs: number }
const init = JSON.parse(process.argv[2]) as Init;
const send = (m: object) => process.send!(m);
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mem = () => {
  gc(); gc();
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.physical_space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, newSpace };
};

const speaker = new BgpSpeaker(BgpSettings.parse(init.bgp));
const session = speaker.sessions[0];
const families = session.neighbor.families.length;
const before = mem();
let t0 = 0, cpu0 = process.cpuUsage(), loaded = false;
session.on('state', (s: string) => {
  if (s === 'Established' && t0 === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
});
session.on('update', () => {
  if (loaded || speaker.stats.endOfRib < families) return;
  loaded = true;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Let the last callbacks settle before measuring; then again after 10 s idle, when V8 has
  // given back the pages the load's garbage took (what the box keeps paying).
  setImmediate(() => {
    const after = mem();
    const maxRss = process.resourceUsage().maxRSS * 1024;
    setTimeout(() => {
      send({
        type: 'loaded', seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, routes: speaker.rib.size, attributeSets: speaker.rib.attributeSets,
        stats: speaker.stats, before, after, idle: mem(), hash: speaker.rib.hash(), maxRss,
      });
    }, 10_000);
  });
});

let reporter: Reporter | null = null;
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'status') {
    send({ type: 'status', routes: speaker.rib.size, hash: speaker.rib.hash(), state: speaker.status()[0].state, reporter: reporter?.stats ?? null });
  } else if (m.cmd === 'report') {
    reporter = new Reporter({
      controlUrl: init.controlUrl, stateDir: init.stateDir, softwareVersion: 'bench',
      settings: ReporterSettings.parse({ enrollmentToken: init.enrollmentToken, name: 'bgp-bench', publicUrl: 'http://127.0.0.1:9', reportIntervalMs: init.reportIntervalMs }),
      snapshot: () => ({ health: { status: 'ok', reasons: [] }, draining: false, load: { egressBps: 0, capacityBps: 1e10, connections: 0, cpu: 0 }, tiers: [], inventory: [] }),
      bgp: { prefixes: speaker.rib, sessions: () => speaker.status() },
      logger: pino({ level: process.env.BGP_BENCH_LOG ?? 'error' }, pino.destination(2)),
    });
    reporter.start();
    send({ type: 'reporting' });
  } else if (m.cmd === 'stop') {
    void (async () => {
      await reporter?.stop();
      await speaker.stop();
      process.exit(0);
    })();
  }
});
await speaker.start();
send({ type: 'ready', before });
