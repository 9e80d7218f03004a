// A site component for a Node service of this repo that takes a JSON config and answers
// GET /healthz when ready (control, the packager's origin): write the config, start the process,
// wait, keep its log in the component's directory.

import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers, startChild, waitReady } from '../lib/child.ts';
import type { RunningComponent, SiteComponent } from './component.ts';
import { REPO_ROOT, type SiteState } from './state.ts';

export interface ServiceSpec {
  name: string;
  /** entry file, relative to the repo root */
  main: string;
  /** how the config path is passed: ['--config', path] or [path] */
  configArgs: (path: string) => string[];
  /** the config; `port` is a free port picked for this run */
  config: (state: SiteState, port: number, before: RunningComponent[]) => Record<string, unknown>;
  banner: (url: string, state: SiteState) => string[];
  /** values for later components, e.g. { controlUrl: url } */
  exports: (url: string) => Record<string, string>;
  /** setup through the service's API once it answers (e.g. creating the site in control) */
  afterStart?: (url: string, state: SiteState) => Promise<void>;
  verbose?: boolean;
}

export function serviceComponent(spec: ServiceSpec): SiteComponent {
  return {
    name: spec.name,
    async start(state, before): Promise<RunningComponent> {
      const dir = state.componentDir(spec.name);
      const port = await state.port(spec.name);
      const configPath = join(dir, 'config.json');
      writeFileSync(configPath, `${JSON.stringify(spec.config(state, port, before), null, 2)}\n`, { mode: 0o600 });
      const logPath = join(dir, `${spec.name}.log`);
      const logFile = createWriteStream(logPath, { flags: 'a' });
      const child = startChild(spec.name, process.execPath, [join(REPO_ROOT, spec.main), ...spec.configArgs(configPath)], {
        cwd: REPO_ROOT,
        onOutput: (s) => {
          logFile.write(s);
          if (spec.verbose) process.stdout.write(s);
        },
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitReady(child, () => answers(`${url}/healthz`), 30_000);
        await spec.afterStart?.(url, state);
      } catch (e) {
        await child.stop(2_000);
        logFile.end();
        throw e;
      }
      return {
        name: spec.name,
        banner: [`${spec.name}: ${url}  (pid ${child.pid}; log ${logPath})`, ...spec.banner(url, state)],
        exports: spec.exports(url),
        async stop() {
          await child.stop(10_000);
          logFile.end();
        },
      };
    },
  };
}
