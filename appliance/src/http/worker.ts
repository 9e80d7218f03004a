// Entry of one serving worker thread: builds the serving context over the store's worker-side
// view, listens on the shared port (reusePort), and talks to the main thread: store updates in,
// demand / metrics / stats out, peer credentials in (from the fill manifest), misses out and
// their downloads' progress in, drain and (tests only) fault injection in.

import { parentPort, workerData } from 'node:worker_threads';
import type { Server as TlsServer } from 'node:tls';
import type { Socket } from 'node:net';
import type { MainToWorker, WorkerInit } from './worker-messages.ts';
import { startStoreView } from '../store/store-view.ts';
import { IoLimiter } from './disk-reader.ts';
import type { ServeContext } from './exchange.ts';
import { setCacheMaxAge } from './file-headers.ts';
import { MissClient } from './miss-stream.ts';
import { OpenFiles } from './open-files.ts';
import { PeerGate } from './peer-gate.ts';
import { PeerPacer } from './peer-pacer.ts';
import { createPublicServer, type HealthView } from './public-server.ts';
import { SecureServing } from './tls/secure-serving.ts';
import { ServeMetrics } from './serve-metrics.ts';
import { workerRuntimeMetrics } from './worker-runtime-metrics.ts';
import { TokenGate } from './token-gate.ts';

const STATS_INTERVAL_MS = 1_000;
const DRAIN_POLL_MS = 50;

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');
const init = workerData as WorkerInit;

setCacheMaxAge(init.cacheMaxAgeSec);
const store = startStoreView(port);
const metrics = new ServeMetrics();
const runtimeMetrics = workerRuntimeMetrics(init.index);
const ctx: ServeContext = {
  view: store.view,
  files: new OpenFiles(store.view),
  gate: new TokenGate({ keys: init.tokenKeys }),
  metrics,
  limiters: { ssd: new IoLimiter(init.diskReads.ssd, true), hdd: new IoLimiter(init.diskReads.hdd) },
  maxRanges: init.maxRanges,
  onDiskError: (fileId, message, code) => port.postMessage({ type: 'disk-error', fileId, message, code }),
  refuseViewers: null,
  peers: new PeerGate(),
  peerPacer: new PeerPacer(metrics),
  misses: new MissClient(port),
};
let health: HealthView = { status: 'ok', reasons: [] };
// plain HTTP on the public address unless the box serves HTTPS only; HTTPS beside it or instead
const tls = init.tls;
const listeners: { server: ReturnType<typeof createPublicServer>; host: string; port: number }[] = [];
if (!tls?.only) listeners.push({ server: createPublicServer(ctx, init.limits, () => health), host: init.host, port: init.port });
let secure: SecureServing | undefined;
if (tls) {
  const server = createPublicServer(ctx, init.limits, () => health, tls.material);
  secure = new SecureServing(server.server as TlsServer, tls.ticketKeys, (msg) => process.emitWarning(msg));
  listeners.push({ server, host: tls.host, port: tls.port });
}

let connections = 0;
for (const { server } of listeners) {
  server.server.on('connection', (s: Socket) => {
    connections++;
    s.once('close', () => connections--);
  });
}

const stats = setInterval(() => {
  port.postMessage({
    type: 'stats',
    bytesTotal: metrics.bytesTotal,
    diskErrors: metrics.diskErrorsTotal,
    connections,
    inFlight: metrics.inFlightCount,
  });
}, STATS_INTERVAL_MS);
stats.unref();

function drain(): void {
  store.stop(); // last demand batch
  // stop accepting; keep-alive connections close as soon as they are idle, in-flight responses
  // run to completion (the main thread enforces the deadline by terminating us)
  let open = listeners.length;
  for (const { server } of listeners) server.close(() => --open === 0 && port!.postMessage({ type: 'drained' }));
  const closeIdle = () => { for (const { server } of listeners) server.closeIdleConnections(); };
  const poll = setInterval(() => {
    closeIdle();
    if (connections === 0) {
      clearInterval(poll);
      ctx.files.close();
    }
  }, DRAIN_POLL_MS);
  closeIdle();
}

port.on('message', (m: MainToWorker) => {
  switch (m.type) {
    case 'metrics:get':
      port.postMessage({ type: 'metrics', id: m.id, metrics: [...metrics.toJSON(), ...runtimeMetrics()] });
      break;
    case 'health':
      health = m.health;
      break;
    case 'drain':
      drain();
      break;
    case 'token-keys':
      ctx.gate.setKeys(m.keys);
      break;
    case 'viewers':
      ctx.refuseViewers = m.refuse;
      break;
    case 'peer:config':
      ctx.peers.setConfig({ siteId: m.siteId, publicKeys: m.publicKeys });
      ctx.peerPacer.setRate(m.bytesPerSec);
      break;
    case 'tls:certificate':
      secure?.setCertificate(m.material);
      break;
    case 'tls:tickets':
      secure?.setTicketKeys(m.keys);
      break;
    case 'fault:crash':
      // tests only (the daemon sends this only with faultInjection on): die like a real bug would
      setImmediate(() => {
        throw new Error('fault injection: worker crash requested');
      });
      break;
    default:
      ctx.misses.handle(m);
  }
});

let bound = 0;
for (const l of listeners) {
  l.server.server.listen({ host: l.host, port: l.port, reusePort: true }, () => {
    if (++bound === listeners.length) port.postMessage({ type: 'listening' });
  });
}
