// Start and stop a whole control service (used by main.ts and by the tests on port 0).

import pino from 'pino';
import type { Logger } from 'pino';
import { Control } from './control.ts';
import { buildApp } from './http/app.ts';
import { TitleIngest } from './ingest.ts';
import type { ControlSettings } from './settings.ts';

export interface RunningControl {
  control: Control;
  url: string;
  ingest: TitleIngest | undefined;
  close(): Promise<void>;
}

export async function startControl(settings: ControlSettings, opts: { clock?: () => number; log?: Logger } = {}): Promise<RunningControl> {
  const log = opts.log ?? pino({ level: settings.logLevel });
  const control = await Control.open({ settings, log, clock: opts.clock });
  const app = buildApp(control);
  const ingest = settings.ingestDir ? new TitleIngest(control, settings.ingestDir) : undefined;
  if (ingest) {
    await ingest.scan();
    ingest.start(settings.ingestIntervalMs);
  }
  await control.fill.start();
  control.housekeeping.start();
  const address = await app.listen({ host: settings.host, port: settings.port });
  // the boxes loaded from the database count as heard from now, when their reports can arrive
  // again, not from when loading began (a large fleet's routes take seconds to load)
  control.fleet.graceAfterRestart(control.now());
  if (control.publicUrl === '') control.publicUrl = address;
  return {
    control, url: address, ingest,
    async close() {
      await ingest?.stop();
      await app.close();
      await control.close();
    },
  };
}
