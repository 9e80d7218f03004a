// Structured JSON logs (pino) to stdout. The daemon's "ready" line carries the bound addresses,
// so a supervisor (or a test) can find the ports when the config asked for port 0.

import { pino, type Logger } from 'pino';

export function createLogger(level: string, applianceId: string): Logger {
  return pino({ level, base: { svc: 'appliance', appliance: applianceId } });
}
