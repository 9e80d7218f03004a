// Extra services the daemon runs beside serving — the control reporter, BGP, fill. Each is
// started once the daemon is ready, with the Daemon (settings, store, snapshot(), drain()), and
// stopped during a drain after the serving workers have finished and before the store closes.
// To add one, append it to DAEMON_SERVICES (this list is the only edit the daemon needs).

import type { Daemon } from './daemon.ts';

export interface RunningService {
  stop(): Promise<void>;
}

export interface DaemonService {
  name: string;
  start(daemon: Daemon): Promise<RunningService>;
}

export const DAEMON_SERVICES: DaemonService[] = [];
