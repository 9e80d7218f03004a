// Runs a BgpSpeaker in its own process for the fuzz run, so "the process stays alive" and its
// heap are measured apart from the test. Settings come as JSON in argv[2]; the parent asks for
// status over IPC. Start with --expose-gc so the heap figure is taken after a collection.

import { BgpSettings } from '../../../src/bgp/settings.ts';
import { BgpSpeaker } from '../../../src/bgp/speaker.ts';

const speaker = new BgpSpeaker(BgpSettings.parse(JSON.parse(process.argv[2])));
await speaker.start();
let sent = 0, received = 0;
speaker.sessions[0].on('notification', (n: { dir: string }) => { if (n.dir === 'sent') sent++; else received++; });
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'status' || m.cmd === 'heap') {
    if (m.cmd === 'heap') (globalThis as { gc?: () => void }).gc?.();
    process.send!({
      state: speaker.status()[0].state, prefixes: speaker.rib.count(speaker.sessions[0].neighbor.address),
      stats: speaker.stats, notificationsSent: sent, notificationsReceived: received, heapUsed: process.memoryUsage().heapUsed,
    });
  } else if (m.cmd === 'stop') {
    void speaker.stop().then(() => process.exit(0));
  }
});
process.send!({ ready: true, port: speaker.listenPort });
