// Run one appliance daemon as a child process: write its JSON config, start
// `node appliance/main.ts --config <file>`, wait until its admin address answers /v1/health.
// Shared by the dev site (`npm start`) and the serve bench.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, startChild, waitReady, type Child } from './child.ts';
import { freePort } from './free-port.ts';

export const APPLIANCE_MAIN = fileURLToPath(new URL('../../appliance/main.ts', import.meta.url));

export interface ApplianceConfigInput {
  /** directory for the config, store and state */
  dir: string;
  applianceId?: string;
  /** loopback ports to listen on; free ones are picked when absent */
  ports?: { listen: number; admin: number };
  tokenKeys: Record<string, string>;
  adminToken: string;
  /** anything else the daemon's settings accept (ramTierBytes, workers, …); a function gets
   *  the chosen listen address (for settings that name it, like report.publicUrl) */
  extra?: Record<string, unknown> | ((listen: string) => Record<string, unknown>);
}

export interface ApplianceConfig {
  path: string;
  listen: string;
  adminListen: string;
  storeRoot: string;
  stateDir: string;
  settings: Record<string, unknown>;
}

/**
 * Write a config with fixed loopback ports (given, or free ones picked now), so the caller knows
 * the URLs without parsing logs. The state and store persist in `dir`.
 */
export async function writeApplianceConfig(i: ApplianceConfigInput): Promise<ApplianceConfig> {
  mkdirSync(i.dir, { recursive: true });
  const storeRoot = join(i.dir, 'store');
  const stateDir = join(i.dir, 'state');
  const listen = `127.0.0.1:${i.ports?.listen ?? (await freePort())}`;
  const adminListen = `127.0.0.1:${i.ports?.admin ?? (await freePort())}`;
  const settings: Record<string, unknown> = {
    applianceId: i.applianceId ?? 'edgebox-1',
    listen,
    adminListen,
    adminToken: i.adminToken,
    tokenKeys: i.tokenKeys,
    storage: [{ path: storeRoot, type: 'ssd' }],
    stateDir,
    ...(typeof i.extra === 'function' ? i.extra(listen) : i.extra),
  };
  const path = join(i.dir, 'config.json');
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
  return { path, listen, adminListen, storeRoot, stateDir, settings };
}

export interface RunningAppliance {
  child: Child;
  pid: number;
  origin: string;
  adminOrigin: string;
  config: ApplianceConfig;
  stop(): Promise<void>;
}

export async function startAppliance(
  config: ApplianceConfig,
  o: {
    onOutput?: (chunk: string) => void;
    readyTimeoutMs?: number;
    nodeArgs?: string[];
    /** another tree's appliance/main.ts (a bench comparing two versions of the code in one run) */
    main?: string;
  } = {},
): Promise<RunningAppliance> {
  const child = startChild('appliance', process.execPath, [...(o.nodeArgs ?? []), o.main ?? APPLIANCE_MAIN, '--config', config.path], {
    onOutput: o.onOutput,
  });
  const origin = `http://${config.listen}`;
  const adminOrigin = `http://${config.adminListen}`;
  try {
    await waitReady(child, async () => {
      const res = await fetch(`${adminOrigin}/v1/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      // health may say degraded (e.g. no control yet) and still serve; only wait for an answer
      return res.status < 500 || res.status === 503;
    }, o.readyTimeoutMs ?? 30_000);
    // the serving port is bound by the workers, possibly after the admin port: wait for it too
    await waitReady(child, () => answers(`${origin}/v1/f/ready.probe`), 10_000);
  } catch (e) {
    await child.stop(2_000);
    throw e;
  }
  return {
    child,
    pid: child.pid,
    origin,
    adminOrigin,
    config,
    async stop() {
      await child.stop(15_000);
    },
  };
}
