// The viewers workload's client process: takes one step's config from its parent over IPC, runs
// the players, and sends back the tally (with the measured window's start and end as they happen,
// so the parent meters the server's CPU over the same window). A process of its own, so its CPU
// is its own and its event loop serves nothing else.

import { runViewers, type ViewersConfig } from './viewers-client.ts';

process.once('message', (config: Omit<ViewersConfig, 'onPhase'>) => {
  runViewers({ ...config, onPhase: (phase) => process.send!({ type: phase }) })
    .then((result) => process.send!({ type: 'result', result }, () => process.disconnect()))
    .catch((err: unknown) => {
      process.send!({ type: 'error', message: err instanceof Error ? err.stack : String(err) }, () => process.exit(1));
    });
});
